"""One router per face: auth, seller, storefront, operator."""
