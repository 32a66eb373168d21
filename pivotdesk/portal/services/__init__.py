"""Portal services: sign-in, customer notices (the outbox), progress notices, the customer's own actions, admin."""
