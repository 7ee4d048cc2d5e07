"""The Django test application of the N+1 tests (test/t/110_nplus1_orm.pl).

Django 3.2 with psycopg2 (Debian's python3-django and python3-psycopg2),
written the way a Django application is: lazy loading through foreign keys,
related managers, select_related/prefetch_related, bulk_create, save().

Usage: python3 run.py SCENARIO...   ("setup" creates and fills the tables)

Connection from the environment: PGHOST, PGPORT, PGUSER, SA_DB (database);
SA_ROW_PAUSE_MS and SA_START_AT for the pooler tests (see below).
Each scenario runs on a connection of its own whose application_name is
"dj_<scenario>" (SA_APP_PREFIX overrides "dj"), and closes it at the end so
that the server's backend exits.  Prints "done <scenario>" per scenario.
"""
import os
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import django
from django.conf import settings

PREFIX = os.environ.get('SA_APP_PREFIX', 'dj')

settings.configure(
    DEBUG=False,
    USE_TZ=True,
    INSTALLED_APPS=['blog'],
    DEFAULT_AUTO_FIELD='django.db.models.AutoField',
    DATABASES={
        'default': {
            'ENGINE': 'django.db.backends.postgresql',
            'NAME': os.environ.get('SA_DB', 'django'),
            'USER': os.environ.get('PGUSER', 'postgres'),
            'HOST': os.environ['PGHOST'],
            'PORT': os.environ['PGPORT'],
            'CONN_MAX_AGE': 0,
            'OPTIONS': {},
        }
    },
)
django.setup()

from django.db import connection, transaction  # noqa: E402
from blog.models import (Account, Author, Comment, Invoice, Post,  # noqa: E402
                         SlowAuthor, Tag, User)

# Pooler tests: seconds of work per row of the lazy loop, and when (Unix
# time) to start, so that clients started together really run at once.
PAUSE = float(os.environ.get('SA_ROW_PAUSE_MS', '0')) / 1000
START_AT = float(os.environ.get('SA_START_AT', '0'))

PAGE = 50       # posts on a page
SMALL = 20      # posts of the nested and per-row shapes
SLOW = 12       # lookups of the slow loop


def setup():
    """Tables as Django creates them, rows by set-based SQL (no loop)."""
    with connection.schema_editor() as editor:
        for model in (User, Author, Post, Comment, Account, Invoice, Tag):
            editor.create_model(model)
    with connection.cursor() as cur:
        cur.execute("""
            INSERT INTO blog_user (id, name)
                SELECT g, 'user ' || g FROM generate_series(1, 30) g;
            INSERT INTO blog_author (id, name)
                SELECT g, 'author ' || g FROM generate_series(1, 60) g;
            INSERT INTO blog_post (id, author_id, title, published)
                SELECT g, g * 7 % 45 + 1, 'post ' || g, g % 2 = 0
                  FROM generate_series(1, 300) g;
            INSERT INTO blog_comment (post_id, user_id, body)
                SELECT p, CASE k WHEN 2 THEN (p + 7) % 30 + 1
                                 ELSE p % 30 + 1 END,
                       'comment ' || k || ' on post ' || p
                  FROM generate_series(1, 300) p, generate_series(0, 2) k
                 ORDER BY p, k;
            INSERT INTO blog_account (id, name)
                SELECT 5000000000 + g, 'account ' || g
                  FROM generate_series(1, 40) g;
            INSERT INTO blog_invoice (id, account_id, amount)
                SELECT 7000000000 + g, 5000000000 + (g * 3 % 40) + 1, g * 10
                  FROM generate_series(1, 60) g;
            SELECT setval(pg_get_serial_sequence('blog_user', 'id'), 30);
            SELECT setval(pg_get_serial_sequence('blog_author', 'id'), 60);
            SELECT setval(pg_get_serial_sequence('blog_post', 'id'), 300);
            CREATE FUNCTION blog_pause() RETURNS integer LANGUAGE sql
                VOLATILE AS 'SELECT 150 FROM pg_sleep(0.15)';
            CREATE VIEW blog_slow_author AS
                SELECT id, name, blog_pause() AS pause FROM blog_author;
            ANALYZE;
        """)


def page(n=PAGE):
    return Post.objects.order_by('id')[:n]


def lazy():
    """The textbook loop: the posts, then each post's author."""
    for post in page():
        post.author.name
        if PAUSE:
            time.sleep(PAUSE)


def bigint():
    """Lazy loading over bigint keys above 2^31."""
    for invoice in Invoice.objects.order_by('id')[:40]:
        invoice.account.name


def nested():
    """posts -> comments of each post -> user of each comment."""
    for post in page(SMALL):
        for comment in post.comment_set.all():
            comment.user.name


def slow():
    """A loop whose every lookup takes 150 ms, outside a transaction."""
    for post in page(SLOW):
        SlowAuthor.objects.get(pk=post.author_id).name


def update():
    """save() per row, each its own (autocommit) statement."""
    for post in page(30):
        post.title = post.title + ' (edited)'
        post.save()


def create():
    """objects.create() per row."""
    for i in range(30):
        Tag.objects.create(name='django tag %d' % i)


def limit():
    """Per row ORDER BY ... LIMIT: the two newest comments of each post."""
    for post in page(SMALL):
        list(post.comment_set.order_by('-id')[:2])


def distinct():
    """Per row DISTINCT: the commenters of each post."""
    for post in page(SMALL):
        list(Comment.objects.filter(post=post).order_by()
             .values_list('user_id', flat=True).distinct())


def forupdate():
    """Per row SELECT ... FOR UPDATE inside one transaction (30 authors:
    more than Django's LIMIT 21)."""
    with transaction.atomic():
        for post in page(30):
            Author.objects.select_for_update().get(pk=post.author_id)


def eager():
    """Negative control: select_related and prefetch_related."""
    for post in page().select_related('author').prefetch_related(
            'comment_set__user'):
        post.author.name
        for comment in post.comment_set.all():
            comment.user.name


def batches():
    """Negative control: all posts in batches of 25 (keyset), each batch
    with its comments prefetched (one IN list per batch)."""
    last = 0
    while True:
        batch = list(Post.objects.filter(id__gt=last).order_by('id')
                     .select_related('author')
                     .prefetch_related('comment_set')[:25])
        if not batch:
            break
        for post in batch:
            post.author.name
            len(post.comment_set.all())
        last = batch[-1].id


def deferred():
    """Negative control: bulk_create of 60 rows in a transaction; the
    foreign keys are DEFERRABLE INITIALLY DEFERRED, so their 120 checks
    run at COMMIT.  The rows go to posts no other scenario reads."""
    with transaction.atomic():
        Comment.objects.bulk_create(
            [Comment(post_id=201 + i % 50, user_id=i % 30 + 1,
                     body='bulk %d' % i) for i in range(60)])


def xact():
    """The textbook loop inside one transaction (for the pooler)."""
    with transaction.atomic():
        lazy()


SCENARIOS = {
    'setup': setup, 'lazy': lazy, 'bigint': bigint, 'nested': nested,
    'slow': slow, 'update': update, 'create': create, 'limit': limit,
    'distinct': distinct, 'forupdate': forupdate, 'eager': eager,
    'batches': batches, 'deferred': deferred, 'xact': xact,
}

# Settings a scenario's session gets (PGOPTIONS-style, not through a pooler).
SESSION = {
    # the product's default window, whatever the test server's is
    'slow': '-c scale_advisor.n_plus_one_window_ms=100',
    # statements run by triggers are recorded (and must be seen as nested)
    'deferred': '-c scale_advisor.track=all',
}


def main(names):
    for name in names:
        if name not in SCENARIOS:
            sys.exit('unknown scenario %s' % name)
    for name in names:
        connection.close()
        opts = {'application_name': '%s_%s' % (PREFIX, name)}
        if name in SESSION and not os.environ.get('SA_NO_OPTIONS'):
            opts['options'] = SESSION[name]
        connection.settings_dict['OPTIONS'] = opts
        if START_AT > time.time():
            time.sleep(START_AT - time.time())
        SCENARIOS[name]()
        connection.close()
        print('done', name, flush=True)


if __name__ == '__main__':
    main(sys.argv[1:])
