/** What a migration needs to know about the database it runs on (column types differ slightly). */
export interface MigrationContext {
  dialect: 'sqlite' | 'postgres';
}
