// One customer's users by principal name, from paging the user list once. There is no documented
// lookup by UPN, so this is the only way (partner-center-api.md §4).
export class UserDirectory {
  private readonly byPrincipalName = new Map<string, string>();

  add(userPrincipalName: string, userId: string): void {
    this.byPrincipalName.set(userPrincipalName.toLowerCase(), userId.toLowerCase());
  }

  /** The user id for a principal name, matched case-insensitively. */
  idOf(userPrincipalName: string): string | undefined {
    return this.byPrincipalName.get(userPrincipalName.toLowerCase());
  }

  get size(): number {
    return this.byPrincipalName.size;
  }
}
