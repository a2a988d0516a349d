"""Page logic in plain Python (no streamlit): URL views, slider options, page sentences, chart-event parsing.
Unit-tested without AppTest; the pages in ``dashboard/views`` only compose these with widgets."""
