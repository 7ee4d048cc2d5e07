// The Sequelize test application of the N+1 tests
// (test/t/110_nplus1_orm.pl).
//
// Sequelize 6 with node-postgres (npm packages, see package.json), written
// the way a Node application is: models with associations, lazy getters
// (post.getAuthor()), findByPk, Promise.all over a connection pool,
// include, create() and save().
//
// Usage: node run.js SCENARIO...   ("setup" creates and fills the tables)
//
// Connection from the environment: PGHOST, PGPORT, PGUSER, SA_DB.  The
// packages are found through NODE_PATH (the npm cache folder).  Each
// scenario runs on a Sequelize instance (a pool of at most 5 connections)
// of its own whose application_name is "sq_<scenario>" (SA_APP_PREFIX
// overrides "sq"), closed at the end so that the server's backends exit.
// Prints "done <scenario>" per scenario.
'use strict';
const { Sequelize, DataTypes, Op } = require('sequelize');

const PREFIX = process.env.SA_APP_PREFIX || 'sq';
const PAGE = 50;
const SMALL = 20;
const SLOW = 12;

// settings a scenario's session gets (not through a pooler)
const SESSION = {
  // the product's default window, whatever the test server's is
  slow: '-c scale_advisor.n_plus_one_window_ms=100',
};

function connect(name) {
  const dialectOptions = { application_name: `${PREFIX}_${name}` };
  if (SESSION[name] && !process.env.SA_NO_OPTIONS)
    dialectOptions.options = SESSION[name];
  const sequelize = new Sequelize(process.env.SA_DB || 'sequelize',
    process.env.PGUSER || 'postgres', null, {
      dialect: 'postgres',
      host: process.env.PGHOST,
      port: Number(process.env.PGPORT),
      logging: false,
      pool: { max: 5, min: 0, idle: 10000 },
      dialectOptions,
      define: { underscored: true },
    });
  const User = sequelize.define('user', {
    name: { type: DataTypes.STRING, allowNull: false },
  }, { timestamps: false });
  const Author = sequelize.define('author', {
    name: { type: DataTypes.STRING, allowNull: false },
  }, { timestamps: false });
  const Post = sequelize.define('post', {
    title: { type: DataTypes.STRING, allowNull: false },
    published: { type: DataTypes.BOOLEAN, allowNull: false, defaultValue: false },
  });
  const Comment = sequelize.define('comment', {
    body: { type: DataTypes.TEXT, allowNull: false },
  }, { timestamps: false });
  const Account = sequelize.define('account', {
    id: { type: DataTypes.BIGINT, primaryKey: true, autoIncrement: true },
    name: { type: DataTypes.STRING, allowNull: false },
  }, { timestamps: false });
  const Invoice = sequelize.define('invoice', {
    id: { type: DataTypes.BIGINT, primaryKey: true, autoIncrement: true },
    amount: { type: DataTypes.INTEGER, allowNull: false },
  }, { timestamps: false });
  const Tag = sequelize.define('tag', {
    name: { type: DataTypes.STRING, allowNull: false },
  });
  // a view over authors whose every row takes 150 ms to produce
  const SlowAuthor = sequelize.define('slow_author', {
    name: DataTypes.STRING,
  }, { timestamps: false, tableName: 'slow_authors' });
  const fk = (name) => ({ foreignKey: { name, allowNull: false } });
  Post.belongsTo(Author, fk('authorId'));
  Author.hasMany(Post, fk('authorId'));
  Post.hasMany(Comment, fk('postId'));
  Comment.belongsTo(Post, fk('postId'));
  Comment.belongsTo(User, fk('userId'));
  User.hasMany(Comment, fk('userId'));
  Invoice.belongsTo(Account, {
    foreignKey: { name: 'accountId', type: DataTypes.BIGINT, allowNull: false },
  });
  return { sequelize, User, Author, Post, Comment, Account, Invoice, Tag, SlowAuthor };
}

const page = (m, n = PAGE) => m.Post.findAll({ order: [['id', 'ASC']], limit: n });

const SCENARIOS = {
  // tables as Sequelize creates them, rows by set-based SQL (no loop)
  async setup(m) {
    for (const model of [m.User, m.Author, m.Post, m.Comment, m.Account, m.Invoice, m.Tag])
      await model.sync();
    await m.sequelize.query(`
      INSERT INTO users (id, name)
          SELECT g, 'user ' || g FROM generate_series(1, 30) g;
      INSERT INTO authors (id, name)
          SELECT g, 'author ' || g FROM generate_series(1, 60) g;
      INSERT INTO posts (id, author_id, title, published, created_at, updated_at)
          SELECT g, g * 7 % 45 + 1, 'post ' || g, g % 2 = 0,
                 '2024-01-01'::timestamptz + g * interval '1 hour',
                 '2024-01-01'::timestamptz + g * interval '1 hour'
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
      ANALYZE;`);
  },
  // the textbook loop: the posts, then each post's author
  async lazy(m) {
    for (const p of await page(m)) await p.getAuthor();
  },
  // bigint keys above 2^31
  async bigint(m) {
    const invoices = await m.Invoice.findAll({ order: [['id', 'ASC']], limit: 40 });
    for (const i of invoices) await i.getAccount();
  },
  // posts -> comments of each post -> user of each comment
  async nested(m) {
    for (const p of await page(m, SMALL))
      for (const c of await p.getComments())
        await c.getUser();
  },
  // every lookup takes 150 ms, outside a transaction
  async slow(m) {
    for (const p of await page(m, SLOW)) await m.SlowAuthor.findByPk(p.authorId);
  },
  // 50 findByPk at once over a pool of 5 connections
  async pool(m) {
    const posts = await page(m);
    await Promise.all(posts.map((p) => m.Author.findByPk(p.authorId)));
  },
  // save() per row
  async update(m) {
    for (const p of await page(m, 30)) {
      p.title = `${p.title} (edited)`;
      await p.save();
    }
  },
  // create() per row
  async create(m) {
    for (let i = 0; i < 30; i++) await m.Tag.create({ name: `sequelize tag ${i}` });
  },
  // per row ORDER BY ... LIMIT: the two newest comments of each post
  async limit(m) {
    for (const p of await page(m, SMALL))
      await m.Comment.findAll({ where: { postId: p.id }, order: [['id', 'DESC']], limit: 2 });
  },
  // per row DISTINCT: the commenters of each post
  async distinct(m) {
    for (const p of await page(m, SMALL))
      await m.Comment.findAll({
        attributes: [[m.sequelize.fn('DISTINCT', m.sequelize.col('user_id')), 'userId']],
        where: { postId: p.id },
        raw: true,
      });
  },
  // per row SELECT ... FOR UPDATE inside one transaction
  async forupdate(m) {
    await m.sequelize.transaction(async (t) => {
      const posts = await m.Post.findAll({ order: [['id', 'ASC']], limit: 30, transaction: t });
      for (const p of posts)
        await m.Author.findByPk(p.authorId, { transaction: t, lock: t.LOCK.UPDATE });
    });
  },
  // negative control: eager loading
  async eager(m) {
    await m.Post.findAll({
      order: [['id', 'ASC']],
      limit: PAGE,
      include: [m.Author, { model: m.Comment, separate: true, include: [m.User] }],
    });
  },
  // negative control: all posts in batches of 25 (keyset), each with its
  // author and its comments (one IN list per batch)
  async batches(m) {
    let last = 0;
    for (;;) {
      const batch = await m.Post.findAll({
        where: { id: { [Op.gt]: last } },
        order: [['id', 'ASC']],
        limit: 25,
        include: [m.Author, { model: m.Comment, separate: true }],
      });
      if (batch.length === 0) break;
      last = batch[batch.length - 1].id;
    }
  },
  // the textbook loop inside one transaction (for the pooler)
  async xact(m) {
    await m.sequelize.transaction(async (t) => {
      const posts = await m.Post.findAll({ order: [['id', 'ASC']], limit: PAGE, transaction: t });
      for (const p of posts) await p.getAuthor({ transaction: t });
    });
  },
};

async function main(names) {
  for (const n of names)
    if (!SCENARIOS[n]) throw new Error(`unknown scenario ${n}`);
  for (const n of names) {
    const m = connect(n);
    await SCENARIOS[n](m);
    await m.sequelize.close();
    console.log(`done ${n}`);
  }
}

main(process.argv.slice(2)).catch((e) => {
  console.error(e);
  process.exit(1);
});
