//! Database client tables (postconf_dbms.c).

/// Map types whose client configuration files postconf opens and checks.
pub(super) const DATABASE_CLIENTS: &[&[u8]] = &[
    b"ldap:",
    b"mysql:",
    b"pgsql:",
    b"sqlite:",
    b"memcache:",
    b"mongodb:",
];
