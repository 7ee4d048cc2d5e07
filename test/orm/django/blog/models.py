# Models of the Django test application (test/orm/django/run.py).
#
# Plain Django 3.2 conventions: integer AutoField keys, foreign keys that
# Django creates DEFERRABLE INITIALLY DEFERRED, table names <app>_<model>.
from django.db import models


class User(models.Model):
    name = models.CharField(max_length=100)


class Author(models.Model):
    name = models.CharField(max_length=100)


class Post(models.Model):
    author = models.ForeignKey(Author, on_delete=models.CASCADE)
    title = models.CharField(max_length=200)
    published = models.BooleanField(default=False)


class Comment(models.Model):
    post = models.ForeignKey(Post, on_delete=models.CASCADE)
    user = models.ForeignKey(User, on_delete=models.CASCADE)
    body = models.TextField()


class Account(models.Model):
    # bigint keys, with values above 2^31 (seeded so by run.py)
    id = models.BigAutoField(primary_key=True)
    name = models.CharField(max_length=100)


class Invoice(models.Model):
    id = models.BigAutoField(primary_key=True)
    account = models.ForeignKey(Account, on_delete=models.CASCADE)
    amount = models.IntegerField()


class Tag(models.Model):
    name = models.CharField(max_length=100)


class SlowAuthor(models.Model):
    # a view over blog_author whose every row takes 150 ms to produce
    name = models.CharField(max_length=100)

    class Meta:
        managed = False
        db_table = 'blog_slow_author'
