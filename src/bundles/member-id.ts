/**
 * A member's application id is derived from its bundle application: `<bundle id>.<position>`. Starting a member twice
 * (a retried or concurrent advance) therefore names the same application, and the worker can tell a member's filing
 * from a single one without a query.
 */
const MEMBER_ID = /^([0-9A-Za-z-]{1,56})\.(\d{1,2})$/;

export function memberApplicationId(bundleId: string, position: number): string {
  return `${bundleId}.${position}`;
}

/** The bundle application of a member's application id, or null for an ordinary filing. */
export function bundleOfApplication(applicationId: string): string | null {
  return MEMBER_ID.exec(applicationId)?.[1] ?? null;
}
