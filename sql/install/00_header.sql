-- scale_advisor install script (version 1.1 and later), assembled by the Makefile from sql/install/*.sql
\echo Use "CREATE EXTENSION scale_advisor" to load this file. \quit
