// Who holds a results file's lock: what the lock file records, and what a refusal names.
export interface LockHolder {
  pid: number;
  host: string;
  startedAt: string;
  command: string;
}
