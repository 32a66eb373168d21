"""AI writes, split by purpose (apply, overrides, training, multimodal, llm, enrichment). Import the module you need;
this package imports none of them, so one missing or broken module never breaks the others."""
