"""The performance bench (make bench): the world it fills, the lines it measures, the report."""
