-- scale_advisor update script 1.0 -> 1.1, assembled by the Makefile from
-- sql/update/1.0--1.1/*.sql (one file per concern, in name order).  Every
-- change to an SQL object in sql/install/ since the 1.0 release is made
-- here too: test/t/050_upgrade.pl checks that an updated 1.0 installation
-- has the same objects, definitions and grants as a fresh 1.1 one.
\echo Use "ALTER EXTENSION scale_advisor UPDATE TO '1.1'" to load this file. \quit
