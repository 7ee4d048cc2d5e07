-- Maintenance work runs as the owner of the table (src/run_as.c).

