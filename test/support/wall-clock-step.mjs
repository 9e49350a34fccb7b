// Preloaded into a CLI child (`node --import`) to step its wall clock as an NTP correction or a
// resumed virtual machine does: WALL_CLOCK_STEP="<ms>@<after ms>" moves Date.now() by <ms>
// (negative: back) once <after ms> have passed since the process started;
// "<ms>@<after ms>/<every ms>" steps again by as much every <every ms> after that.
const match = /^(-?\d+)@(\d+)(?:\/(\d+))?$/.exec(process.env.WALL_CLOCK_STEP ?? "");
if (match) {
  const stepMs = Number(match[1]);
  const afterMs = Number(match[2]);
  const everyMs = match[3] === undefined ? Infinity : Number(match[3]);
  const realNow = Date.now.bind(Date);
  const steps = (elapsed) => (elapsed < afterMs ? 0 : 1 + Math.floor((elapsed - afterMs) / everyMs));
  Date.now = () => realNow() + stepMs * steps(performance.now());
}
