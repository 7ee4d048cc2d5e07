# test/t/SaWait.pm -- sa_wait_back, for the TAP files that still load it
# (300_archive_crash.pl, 302_archive_remote.pl).  It lives in
# test/t/SaTest.pm with the other helpers the tests share; new files use
# SaTest.
package SaWait;
use strict;
use warnings;
use Exporter 'import';
use SaTest qw(sa_wait_back);

our @EXPORT = qw(sa_wait_back);

1;
