# The ActiveRecord test application of the N+1 tests
# (test/t/110_nplus1_orm.pl).
#
# ActiveRecord 6.1 with ruby-pg (Debian's ruby-activerecord and ruby-pg),
# without the rest of Rails, written the way a Rails application is:
# bigint keys, prepared statements, belongs_to/has_many lazy loading,
# find, includes, find_each, a transaction around every save.
#
# Usage: ruby run.rb SCENARIO...   ("setup" creates and fills the tables)
#
# Connection from the environment: PGHOST, PGPORT, PGUSER, SA_DB.  Each
# scenario runs on a connection pool of its own whose application_name is
# "ar_<scenario>" (SA_APP_PREFIX overrides "ar") and disconnects at the end
# so that the server's backend exits.  Before every scenario but
# "coldcache" the models' columns are loaded, as in a running application
# whose schema cache is warm.  Prints "done <scenario>" per scenario.
require 'active_record'

$stdout.sync = true
PREFIX = ENV.fetch('SA_APP_PREFIX', 'ar')
CONFIG = {
  adapter: 'postgresql',
  database: ENV.fetch('SA_DB', 'rails'),
  username: ENV.fetch('PGUSER', 'postgres'),
  host: ENV.fetch('PGHOST'),
  port: ENV.fetch('PGPORT').to_i,
  pool: 5,
  prepared_statements: ENV['SA_NO_PREPARED'] ? false : true,
}.freeze

class ApplicationRecord < ActiveRecord::Base
  self.abstract_class = true
end

class User < ApplicationRecord
  has_many :comments
end

class Author < ApplicationRecord
  has_many :posts
end

class Post < ApplicationRecord
  belongs_to :author
  has_many :comments
end

class Comment < ApplicationRecord
  belongs_to :post
  belongs_to :user
end

class Account < ApplicationRecord
end

class Invoice < ApplicationRecord
  belongs_to :account
end

class Tag < ApplicationRecord
end

# a view over authors whose every row takes 150 ms to produce
class SlowAuthor < ApplicationRecord
  self.table_name = 'slow_authors'
  self.primary_key = 'id'
end

MODELS = [User, Author, Post, Comment, Account, Invoice, Tag, SlowAuthor].freeze
PAGE = 50
SMALL = 20
SLOW = 12

def page(n = PAGE)
  Post.order(:id).limit(n)
end

SCENARIOS = {
  # tables as ActiveRecord creates them, rows by set-based SQL (no loop)
  'setup' => lambda {
    ActiveRecord::Schema.verbose = false
    ActiveRecord::Schema.define do
      create_table :users do |t|
        t.string :name, null: false
      end
      create_table :authors do |t|
        t.string :name, null: false
      end
      create_table :posts do |t|
        t.references :author, null: false, foreign_key: true
        t.string :title, null: false
        t.boolean :published, null: false, default: false
        t.timestamps
      end
      create_table :comments do |t|
        t.references :post, null: false, foreign_key: true
        t.references :user, null: false, foreign_key: true
        t.text :body, null: false
      end
      create_table :accounts do |t|
        t.string :name, null: false
      end
      create_table :invoices do |t|
        t.references :account, null: false, foreign_key: true
        t.integer :amount, null: false
      end
      create_table :tags do |t|
        t.string :name, null: false
        t.timestamps
      end
    end
    ActiveRecord::Base.connection.execute(<<~SQL)
      INSERT INTO users (id, name)
          SELECT g, 'user ' || g FROM generate_series(1, 30) g;
      INSERT INTO authors (id, name)
          SELECT g, 'author ' || g FROM generate_series(1, 60) g;
      INSERT INTO posts (id, author_id, title, published, created_at, updated_at)
          SELECT g, g * 7 % 45 + 1, 'post ' || g, g % 2 = 0,
                 '2024-01-01'::timestamp + g * interval '1 hour',
                 '2024-01-01'::timestamp + g * interval '1 hour'
            FROM generate_series(1, 300) g;
      INSERT INTO comments (post_id, user_id, body)
          SELECT p, CASE k WHEN 2 THEN (p + 7) % 30 + 1 ELSE p % 30 + 1 END,
                 'comment ' || k || ' on post ' || p
            FROM generate_series(1, 300) p, generate_series(0, 2) k
           ORDER BY p, k;
      INSERT INTO accounts (id, name)
          SELECT 5000000000 + g, 'account ' || g FROM generate_series(1, 40) g;
      INSERT INTO invoices (id, account_id, amount)
          SELECT 7000000000 + g, 5000000000 + (g * 3 % 40) + 1, g * 10
            FROM generate_series(1, 60) g;
      SELECT setval(pg_get_serial_sequence('users', 'id'), 30);
      SELECT setval(pg_get_serial_sequence('authors', 'id'), 60);
      SELECT setval(pg_get_serial_sequence('posts', 'id'), 300);
      CREATE FUNCTION slow_pause() RETURNS integer LANGUAGE sql
          VOLATILE AS 'SELECT 150 FROM pg_sleep(0.15)';
      CREATE VIEW slow_authors AS
          SELECT id, name, slow_pause() AS pause FROM authors;
      ANALYZE;
    SQL
  },
  # the textbook loop: the posts, then each post's author
  'lazy' => -> { page.each { |p| p.author.name } },
  # Author.find per row: WHERE id = $1 LIMIT $2
  'find' => -> { page.each { |p| Author.find(p.author_id).name } },
  # bigint keys above 2^31
  'bigint' => -> { Invoice.order(:id).limit(40).each { |i| i.account.name } },
  # posts -> comments of each post -> user of each comment
  'nested' => lambda {
    page(SMALL).each { |p| p.comments.each { |c| c.user.name } }
  },
  # every lookup takes 150 ms, outside a transaction
  'slow' => -> { page(SLOW).each { |p| SlowAuthor.find(p.author_id).name } },
  # update! per row: each in its own BEGIN ... COMMIT
  'update' => lambda {
    page(30).each { |p| p.update!(title: "#{p.title} (edited)") }
  },
  # create! per row: each in its own BEGIN ... COMMIT
  'create' => -> { 30.times { |i| Tag.create!(name: "rails tag #{i}") } },
  # per row ORDER BY ... LIMIT: the two newest comments of each post
  'limit' => lambda {
    page(SMALL).each { |p| p.comments.order(id: :desc).limit(2).to_a }
  },
  # per row DISTINCT: the commenters of each post
  'distinct' => -> { page(SMALL).each { |p| p.comments.distinct.pluck(:user_id) } },
  # per row SELECT ... FOR UPDATE inside one transaction
  'forupdate' => lambda {
    Author.transaction { page(30).each { |p| Author.lock.find(p.author_id) } }
  },
  # negative control: eager loading
  'eager' => lambda {
    page.includes(:author, comments: :user).each do |p|
      p.author.name
      p.comments.each { |c| c.user.name }
    end
  },
  # negative control: Rails' batched form, 12 batches of 25 with their authors
  'findeach' => lambda {
    Post.includes(:author).find_each(batch_size: 25) { |p| p.author.name }
  },
  # the lazy loop on a cold schema cache: the catalog is read between the
  # posts and the first author
  'coldcache' => -> { page(30).to_a.each { |p| p.author.name } },
  # the textbook loop inside one transaction (for the pooler)
  'xact' => -> { Post.transaction { page.each { |p| p.author.name } } },
}.freeze

# settings a scenario's session gets (not through a pooler)
SESSION = {
  # the product's default window, whatever the test server's is
  'slow' => { 'scale_advisor.n_plus_one_window_ms' => 100 },
}.freeze

names = ARGV
names.each { |n| abort "unknown scenario #{n}" unless SCENARIOS.key?(n) }
names.each do |name|
  cfg = CONFIG.merge(application_name: "#{PREFIX}_#{name}")
  cfg[:variables] = SESSION[name] if SESSION.key?(name) && !ENV['SA_NO_OPTIONS']
  ActiveRecord::Base.establish_connection(cfg)
  if name == 'coldcache'
    MODELS.each(&:reset_column_information)
    ActiveRecord::Base.connection.schema_cache.clear!
  elsif name != 'setup'
    MODELS.each do |m|
      m.table_exists?
      m.columns_hash
      m.primary_key
    end
  end
  SCENARIOS[name].call
  ActiveRecord::Base.remove_connection
  puts "done #{name}"
end
