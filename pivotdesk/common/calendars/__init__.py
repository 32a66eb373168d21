"""Business calendars and business-time arithmetic, pure Python (no Django), for every app that counts working time.

`calendar.BusinessCalendar` (weekly ranges, closed dates, make-up working days, DST-exact) with
`add_business_time` / `business_time_between` / `is_open` / `next_open`, and `hours` (parsing and validating the
stored "09:00"–"12:00" shapes). SLA clocks use it today; workforce rosters, on-call rotations and automation time
rules are meant to. It sits in the lowest layer so any app may import it; the "domain modules are pure" contract
keeps Django out of it.
"""
