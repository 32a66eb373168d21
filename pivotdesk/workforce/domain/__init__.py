"""Framework-free workforce logic: Erlang C/A, simulation, forecasting, rostering, the rule checker, schedules."""
