-- N+1 detection (src/nplus1.c): loops of one statement with different
-- parameters, repeats of one statement with the same parameters, and INSERT
-- loops, with the rewrite that replaces them.

