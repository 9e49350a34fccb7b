// Opens the sign-in URL in the user's browser when the machine has one (a desktop session), with
// the platform's own opener. Never fails and never waits: on a server, over SSH or in a container
// there is none, and the URL printed on stderr is the way in.
import { spawn } from "node:child_process";

/** Whether a browser was asked to open the URL (not whether one did). */
export function openInBrowser(url: string, env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): boolean {
  const opener = openerFor(platform, env);
  if (!opener) return false;
  try {
    const child = spawn(opener.command, [...opener.args, url], { stdio: "ignore", detached: true, windowsHide: true });
    child.on("error", () => undefined); // no opener installed: the printed URL remains
    child.unref();
    return true;
  } catch {
    return false;
  }
}

function openerFor(platform: NodeJS.Platform, env: NodeJS.ProcessEnv): { command: string; args: string[] } | undefined {
  if (platform === "darwin") return { command: "open", args: [] };
  // rundll32 takes the URL as one argument; `cmd /c start` would split it at every "&".
  if (platform === "win32") return { command: "rundll32", args: ["url.dll,FileProtocolHandler"] };
  // Elsewhere a browser needs a graphical session.
  if (env.DISPLAY || env.WAYLAND_DISPLAY) return { command: "xdg-open", args: [] };
  return undefined;
}
