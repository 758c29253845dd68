-- Teams of talents (a volunteer service team, a teaching team, a party branch, an expert group):
-- of one station, or city-wide (station_id NULL). Talents join by the team's invitation link or
-- are added by staff; leaders may message their team.
CREATE TABLE teams (
    id            INTEGER PRIMARY KEY,
    name_zh       TEXT NOT NULL,
    name_en       TEXT NOT NULL,
    kind          TEXT NOT NULL
                  CHECK (kind IN ('volunteer', 'teaching', 'party', 'experts', 'other')),
    station_id    INTEGER REFERENCES stations(id),
    invite_token  TEXT NOT NULL UNIQUE,
    created_by    INTEGER NOT NULL,
    created_at    TEXT NOT NULL
);

CREATE TABLE team_members (
    team_id    INTEGER NOT NULL REFERENCES teams(id),
    talent_id  INTEGER NOT NULL REFERENCES talents(id),
    leader     INTEGER NOT NULL DEFAULT 0 CHECK (leader IN (0, 1)),
    added_by   INTEGER,  -- Telegram id of the staff member who added them; NULL: joined by link
    joined_at  TEXT NOT NULL,
    PRIMARY KEY (team_id, talent_id)
);
CREATE INDEX team_members_by_talent ON team_members (talent_id);

-- An activity open to one team only: only its members see it, sign up and are told of it.
ALTER TABLE activities ADD COLUMN team_id INTEGER REFERENCES teams(id);
