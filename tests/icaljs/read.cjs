// Reads calendars with ical.js (Thunderbird's parser) and prints, for each,
// every VEVENT's UID and its DTSTART and DTEND as UTC Unix seconds, as
// Thunderbird would place them: the file's VTIMEZONEs registered first.
// argv[2]: the ical.js package directory; stdin: a JSON list of iCalendar
// texts; stdout: a JSON list of lists of [uid, start, end].
"use strict";
const loaded = require(process.argv[2]);
const ICAL = loaded.default || loaded;

let input = "";
process.stdin.setEncoding("utf8");
process.stdin.on("data", (chunk) => { input += chunk; });
process.stdin.on("end", () => {
  const out = [];
  for (const text of JSON.parse(input)) {
    const cal = new ICAL.Component(ICAL.parse(text));
    ICAL.TimezoneService.reset();
    for (const vtz of cal.getAllSubcomponents("vtimezone")) {
      ICAL.TimezoneService.register(new ICAL.Timezone(vtz));
    }
    const events = [];
    for (const vevent of cal.getAllSubcomponents("vevent")) {
      const ev = new ICAL.Event(vevent);
      events.push([ev.uid, ev.startDate.toUnixTime(), ev.endDate.toUnixTime()]);
    }
    out.push(events);
  }
  process.stdout.write(JSON.stringify(out));
});
