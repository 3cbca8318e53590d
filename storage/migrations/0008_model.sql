-- The declared zone/conduit model (package rules), written by the store at
-- every start and model reload (storage.WriteModel), so that dashboards and
-- reports join what is declared with what is observed, and a report names
-- the model version it judged by.
--
-- model_versions has one row per load: the model's hash (rules.Model.Hash,
-- sha256 of the files it was loaded from) and when it was loaded. The content tables hold each version's rows
-- keyed by model_hash; a version is written once and never changes, so
-- every version stays queryable. The current model of a site is
-- argMax(model_hash, loaded_at) over its model_versions rows.

CREATE TABLE IF NOT EXISTS model_versions
(
    model_hash      String,
    loaded_at       DateTime64(6, 'UTC'),
    site            LowCardinality(String),
    source          String,
    facility        String,
    standard        String,
    assessment_date String,
    zones           UInt32,
    conduits        UInt32,
    rules           UInt32,
    assets          UInt32,
    devices         UInt32,
    diodes          UInt32
)
ENGINE = ReplacingMergeTree
ORDER BY (site, loaded_at, model_hash);

-- Zones: IEC 62443-3-2 security zones with their SL-T and Purdue level(s).
CREATE TABLE IF NOT EXISTS model_zones
(
    model_hash   String,
    zone         String,
    name         String,
    position     UInt16,
    purdue       String,
    purdue_lo    Nullable(Float32),
    purdue_hi    Nullable(Float32),
    sl_t         Nullable(UInt8),
    criticality  String,
    safety       Bool,
    air_gapped   Bool,
    networks     Array(String),
    conduits     Array(String),
    requirements Array(String)
)
ENGINE = ReplacingMergeTree
ORDER BY (model_hash, zone);

-- Conduits: the declared paths between zones.
CREATE TABLE IF NOT EXISTS model_conduits
(
    model_hash String,
    conduit    String,
    name       String,
    position   UInt16,
    zones      Array(String),
    sl         Nullable(UInt8),
    controls   Array(String),
    inspected  Bool
)
ENGINE = ReplacingMergeTree
ORDER BY (model_hash, conduit);

-- Rules: what may cross each conduit. from_zone/to_zone are empty when the
-- rule allows either direction; functions is empty when every function is
-- allowed.
CREATE TABLE IF NOT EXISTS model_rules
(
    model_hash    String,
    rule          String,
    conduit       String,
    position      UInt16,
    protocol      String,
    app_protocol  String,
    transport     String,
    ports         Array(String),
    from_zone     String,
    to_zone       String,
    functions     String,
    diode         Bool,
    direction     String,
    security_mode String
)
ENGINE = ReplacingMergeTree
ORDER BY (model_hash, rule);

-- Assets: the inventory, with addresses as IPv6 (IPv4-mapped) like events.
CREATE TABLE IF NOT EXISTS model_assets
(
    model_hash String,
    asset      String,
    zone       String,
    addresses  Array(IPv6),
    role       String,
    vendor     String,
    product    String
)
ENGINE = ReplacingMergeTree
ORDER BY (model_hash, asset);

-- Devices: the reporting firewalls, sensors and diode interfaces; mode is
-- monitor or enforce for firewalls, empty for sensors.
CREATE TABLE IF NOT EXISTS model_devices
(
    model_hash String,
    device     String,
    role       String,
    vendor     String,
    product    String,
    decoder    String,
    mode       String,
    mode_since Nullable(DateTime('UTC')),
    addresses  Array(IPv6),
    conduits   Array(String),
    zones      Array(String)
)
ENGINE = ReplacingMergeTree
ORDER BY (model_hash, device);

-- Data diodes: both sides' addresses and zones, the heartbeat interval the
-- diode health is judged by, and the conduit rule it implements.
CREATE TABLE IF NOT EXISTS model_diodes
(
    model_hash    String,
    diode         String,
    name          String,
    vendor        String,
    tx            IPv6,
    rx            IPv6,
    tx_zone       String,
    rx_zone       String,
    heartbeat_s   UInt32,
    conduit       String,
    rule          String
)
ENGINE = ReplacingMergeTree
ORDER BY (model_hash, diode);
