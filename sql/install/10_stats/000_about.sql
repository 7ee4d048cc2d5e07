-- Statement timings: the store's rows as views, reset.

