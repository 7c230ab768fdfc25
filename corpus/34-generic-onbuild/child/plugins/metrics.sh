echo metrics
