"""Processing times of applications: time in each state, backlog by age, applications at risk of
missing a declared date (issue 19, docs/indicators.md "Processing times")."""
