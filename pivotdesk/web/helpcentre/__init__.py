"""The public help centre: a workspace's public, published articles for its customers, without sign-in."""
