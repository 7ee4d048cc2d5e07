-- scale_advisor install script, assembled by the Makefile from sql/install/*.sql
\echo Use "CREATE EXTENSION scale_advisor" to load this file. \quit
