"""The map: region boundaries, what each region shows, and the map's frame sections. May import domain, store, settings, access and live."""
