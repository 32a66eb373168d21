"""The oncall app's writes (schedules, paging, partners, after hours); each takes the actor and checks it."""
