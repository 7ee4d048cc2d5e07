# The Django app ("blog") of the N+1 test application: see models.py and ../run.py.
