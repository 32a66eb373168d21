"""The knowledge graph screens for knowledge managers: the entities (searched, filtered by kind) and one entity with
its neighbours, their evidence ("worked in N of M") and the tickets that mention it."""
