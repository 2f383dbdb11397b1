// Reads an iCalendar file with Mozilla's ical.js and expands its events: prints every
// occurrence between two UTC instants as `UID START_UTC STATUS`, sorted. ical.js has no time
// zone data of its own: each TZID is read through the VTIMEZONE the file carries (an event
// whose zone is missing would come out in floating time, and the test would see it).
// Usage: node calendar_check.mjs MODULE_DIR FILE START END
import { readFileSync } from "node:fs";
import { pathToFileURL } from "node:url";
import { join } from "node:path";

const [moduleDir, file, start, end] = process.argv.slice(2);
const ICAL = (await import(pathToFileURL(join(moduleDir, "node_modules/ical.js/dist/ical.js")).href)).default;

const root = new ICAL.Component(ICAL.parse(readFileSync(file, "utf8")));
for (const tz of root.getAllSubcomponents("vtimezone")) {
  ICAL.TimezoneService.register(tz);
}
const from = Date.parse(start) / 1000;
const to = Date.parse(end) / 1000;
const lines = [];
for (const vevent of root.getAllSubcomponents("vevent")) {
  const event = new ICAL.Event(vevent);
  const tzid = vevent.getFirstProperty("dtstart").getParameter("tzid");
  if (tzid && !ICAL.TimezoneService.has(tzid)) {
    console.error(`no VTIMEZONE for ${tzid}`);
    process.exit(3);
  }
  const status = vevent.getFirstPropertyValue("status") || "CONFIRMED";
  const it = event.iterator();
  for (let next = it.next(), n = 0; next && n < 5000; next = it.next(), n++) {
    const t = next.toUnixTime();
    if (t >= to) break;
    if (t >= from) {
      lines.push(`${event.uid} ${new Date(t * 1000).toISOString().replace(".000Z", "Z")} ${status}`);
    }
  }
}
console.log(lines.sort().join("\n"));
