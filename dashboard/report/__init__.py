"""Reports on paper: a committee's weekly or monthly 党建工作 report as PDF or PNG — the period, the
figures (from the history replay, the same counting as the live screens), the rendering with an
embedded CJK font, the schedule that writes them into a folder. May import domain, store, settings,
access, live and map."""
