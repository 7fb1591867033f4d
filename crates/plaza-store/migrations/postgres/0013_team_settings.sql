-- A team's own settings (a row only once set; the defaults apply until then).

CREATE TABLE team_settings (
    team_id       TEXT PRIMARY KEY REFERENCES teams (id),
    auto_upgrade  BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL
);
