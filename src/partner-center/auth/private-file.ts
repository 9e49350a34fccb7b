// A file that holds a secret and is its owner's alone: opened only when it is a regular file (not
// a symbolic link), of this user, with no permission for group or others; written through a 0600
// temp file in the same folder, synced and renamed over it, so a reader never sees half a file.
import { randomBytes } from "node:crypto";
import { constants } from "node:fs";
import { mkdir, open, rename, unlink, type FileHandle } from "node:fs/promises";
import { basename, dirname, join } from "node:path";

/** Any permission for group or others: a file holding a refresh token is its owner's alone. */
const OTHERS_MAY_ACCESS = 0o077;

export type OpenedPrivateFile = { ok: true; handle: FileHandle | undefined } | { ok: false; error: string };

/**
 * The file opened for reading once it passed the checks; no handle: there is no file yet. `what`
 * names the file in the errors ("token cache /path").
 */
export async function openPrivateFile(path: string, what: string): Promise<OpenedPrivateFile> {
  let handle: FileHandle;
  try {
    handle = await open(path, constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT") return { ok: true, handle: undefined };
    if (code === "ELOOP") return { ok: false, error: `${what} ${path} is a symbolic link: give the file itself` };
    return { ok: false, error: `cannot read ${what} ${path}: ${code ?? "unreadable"}` };
  }
  const refuse = async (error: string): Promise<{ ok: false; error: string }> => {
    await handle.close();
    return { ok: false, error };
  };
  const info = await handle.stat();
  if (!info.isFile()) return refuse(`${what} ${path} is not a regular file`);
  if ((info.mode & OTHERS_MAY_ACCESS) !== 0) {
    const mode = (info.mode & 0o777).toString(8).padStart(4, "0");
    return refuse(`${what} ${path} can be read or written by others (mode ${mode}); it holds a refresh token: chmod 600 ${path}`);
  }
  if (typeof process.getuid === "function" && info.uid !== process.getuid()) {
    return refuse(`${what} ${path} belongs to another user (uid ${info.uid}): the runner keeps its own cache`);
  }
  return { ok: true, handle };
}

/** Temp file in the same directory (0600 from creation), fsync, rename over `path`. */
export async function writePrivateFileAtomically(path: string, text: string): Promise<void> {
  const dir = dirname(path);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const temp = join(dir, `.${basename(path)}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`);
  const handle = await open(temp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
  try {
    await handle.writeFile(text, "utf8");
    await handle.chmod(0o600); // whatever the umask did
    await handle.sync();
  } catch (error) {
    await handle.close();
    await unlink(temp).catch(() => undefined);
    throw error;
  }
  await handle.close();
  try {
    await rename(temp, path);
  } catch (error) {
    await unlink(temp).catch(() => undefined);
    throw error;
  }
}
