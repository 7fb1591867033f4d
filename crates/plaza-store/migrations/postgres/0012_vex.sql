-- VEX statements: a publisher's or reviewer's statement that an advisory does not affect an app
-- (OpenVEX not_affected with a justification, or fixed), for every version of the app, optionally
-- expiring. The statement itself is kept as JSON (plaza_supply::vex::Suppression).

CREATE TABLE vex_statements (
    id          TEXT COLLATE "C" PRIMARY KEY,
    org_id      TEXT NOT NULL REFERENCES orgs (id),
    app_id      TEXT COLLATE "C" NOT NULL,
    statement   TEXT NOT NULL,
    created_by  TEXT NOT NULL REFERENCES users (id),
    created_at  BIGINT NOT NULL
);
CREATE INDEX vex_statements_by_app ON vex_statements (org_id, app_id);
