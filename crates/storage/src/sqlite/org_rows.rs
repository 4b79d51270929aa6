//! The organisation's rows: load the active organisation, write a desired one.

use domain::{ExternalId, Protocol, RegNo, VehicleKind};
use org::{
    Assignment, Device, Employee, EmployeeStatus, Geometry, Org, Organisation, Purpose, Site,
    SiteKind, Vehicle,
};
use rusqlite::{Connection, params};

use super::db_err;
use crate::StoreError;

fn corrupt(what: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(what.to_string())
}

fn geometry_text(g: &Geometry) -> String {
    match g {
        Geometry::Circle { lat, lon, radius_m } => format!("circle {lat} {lon} {radius_m}"),
        Geometry::Polygon(ring) => {
            let mut s = String::from("polygon");
            for (lat, lon) in ring {
                s.push_str(&format!(" {lat} {lon}"));
            }
            s
        }
    }
}

fn parse_geometry(s: &str) -> Result<Geometry, StoreError> {
    let mut parts = s.split(' ');
    let kind = parts.next().unwrap_or_default();
    let nums: Vec<f64> = parts
        .map(|p| {
            p.parse::<f64>()
                .map_err(|_| corrupt(format!("site geometry {s:?}")))
        })
        .collect::<Result<_, _>>()?;
    match (kind, nums.as_slice()) {
        ("circle", [lat, lon, r]) => Ok(Geometry::Circle {
            lat: *lat,
            lon: *lon,
            radius_m: *r,
        }),
        ("polygon", n) if n.len() >= 6 && n.len() % 2 == 0 => Ok(Geometry::Polygon(
            n.chunks_exact(2).map(|c| (c[0], c[1])).collect(),
        )),
        _ => Err(corrupt(format!("site geometry {s:?}"))),
    }
}

fn parse_date(s: &str) -> Result<time::Date, StoreError> {
    let fmt = time::macros::format_description!("[year]-[month]-[day]");
    time::Date::parse(s, &fmt).map_err(|_| corrupt(format!("date {s:?}")))
}

fn purposes_text(p: &[Purpose]) -> String {
    p.iter().map(|p| p.as_str()).collect::<Vec<_>>().join(",")
}

pub(super) fn load(conn: &Connection) -> Result<Org, StoreError> {
    let organisation = conn
        .query_row(
            "SELECT name, org_number, db_balancing_test, db_dpia FROM organisation WHERE id = 1",
            [],
            |r| {
                let balancing: Option<String> = r.get(2)?;
                let dpia: Option<String> = r.get(3)?;
                Ok(Organisation {
                    name: r.get(0)?,
                    org_number: r.get(1)?,
                    driver_behaviour_basis: balancing.zip(dpia).map(|(balancing_test, dpia)| {
                        org::LegalBasis {
                            balancing_test,
                            dpia,
                        }
                    }),
                })
            },
        )
        .or_else(|e| match e {
            rusqlite::Error::QueryReturnedNoRows => Ok(Organisation::default()),
            e => Err(db_err(e)),
        })?;

    let mut vehicles = Vec::new();
    let mut stmt = conn
        .prepare("SELECT reg, kind, grp, description, purposes FROM vehicle WHERE active = 1 ORDER BY id")
        .map_err(db_err)?;
    let rows = stmt
        .query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get::<_, String>(4)?,
            ))
        })
        .map_err(db_err)?;
    for row in rows {
        let (reg, kind, group, description, purposes) = row.map_err(db_err)?;
        let purposes = purposes
            .split(',')
            .filter(|s| !s.is_empty())
            .map(|s| Purpose::parse(s).ok_or_else(|| corrupt(format!("purpose {s:?}"))))
            .collect::<Result<Vec<_>, _>>()?;
        vehicles.push(Vehicle {
            reg: RegNo::parse(&reg).map_err(corrupt)?,
            kind: VehicleKind::parse(&kind).map_err(corrupt)?,
            group,
            description,
            purposes,
        });
    }

    let mut devices = Vec::new();
    let mut stmt = conn
        .prepare(
            "SELECT d.protocol, d.external_id, v.reg, d.model, d.privacy_input, d.panic_input, d.virtual_odometer, d.rank
             FROM device d JOIN vehicle v ON v.id = d.vehicle_id
             WHERE d.active = 1 ORDER BY d.id",
        )
        .map_err(db_err)?;
    let rows = stmt
        .query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
                r.get::<_, i64>(6)? == 1,
                r.get::<_, Option<u8>>(7)?,
            ))
        })
        .map_err(db_err)?;
    for row in rows {
        let (protocol, external_id, reg, model, privacy_input, panic_input, virtual_odometer, rank) =
            row.map_err(db_err)?;
        let protocol = Protocol::parse(&protocol).map_err(corrupt)?;
        devices.push(Device {
            protocol,
            external_id: ExternalId::parse(protocol, &external_id).map_err(corrupt)?,
            vehicle: RegNo::parse(&reg).map_err(corrupt)?,
            model,
            privacy_input,
            panic_input,
            virtual_odometer,
            rank,
        });
    }

    let mut employees = Vec::new();
    let mut stmt = conn
        .prepare("SELECT number, name, email, status, driver_id, phone FROM employee WHERE active = 1 ORDER BY id")
        .map_err(db_err)?;
    let rows = stmt
        .query_map([], |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get::<_, String>(3)?,
                r.get(4)?,
                r.get(5)?,
            ))
        })
        .map_err(db_err)?;
    for row in rows {
        let (number, name, email, status, driver_id, phone) = row.map_err(db_err)?;
        employees.push(Employee {
            number,
            name,
            email,
            phone,
            status: EmployeeStatus::parse(&status)
                .ok_or_else(|| corrupt(format!("status {status:?}")))?,
            driver_id,
        });
    }

    let mut assignments = Vec::new();
    let mut stmt = conn
        .prepare(
            "SELECT e.number, v.reg, a.valid_from, a.valid_to FROM assignment a
             JOIN employee e ON e.id = a.employee_id JOIN vehicle v ON v.id = a.vehicle_id
             WHERE a.active = 1 ORDER BY a.id",
        )
        .map_err(db_err)?;
    let rows = stmt
        .query_map([], |r| {
            Ok((
                r.get(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, Option<String>>(3)?,
            ))
        })
        .map_err(db_err)?;
    for row in rows {
        let (employee, reg, from, to) = row.map_err(db_err)?;
        assignments.push(Assignment {
            employee,
            vehicle: RegNo::parse(&reg).map_err(corrupt)?,
            from: parse_date(&from)?,
            to: to.as_deref().map(parse_date).transpose()?,
        });
    }

    let mut sites = Vec::new();
    let mut stmt = conn
        .prepare("SELECT name, kind, address, geometry FROM site WHERE active = 1 ORDER BY id")
        .map_err(db_err)?;
    let rows = stmt
        .query_map([], |r| {
            Ok((
                r.get(0)?,
                r.get::<_, String>(1)?,
                r.get(2)?,
                r.get::<_, String>(3)?,
            ))
        })
        .map_err(db_err)?;
    for row in rows {
        let (name, kind, address, geometry) = row.map_err(db_err)?;
        sites.push(Site {
            name,
            kind: SiteKind::parse(&kind).ok_or_else(|| corrupt(format!("site kind {kind:?}")))?,
            address,
            geometry: parse_geometry(&geometry)?,
        });
    }

    let mut users = Vec::new();
    let mut stmt = conn
        .prepare("SELECT name, roles, employee_number FROM app_user WHERE declared = 1 AND disabled = 0 ORDER BY id")
        .map_err(db_err)?;
    let rows = stmt
        .query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, Option<String>>(2)?,
            ))
        })
        .map_err(db_err)?;
    for row in rows {
        let (name, roles, employee) = row.map_err(db_err)?;
        users.push(org::User {
            name,
            roles: roles
                .split(',')
                .filter(|r| !r.is_empty())
                .map(str::to_owned)
                .collect(),
            employee,
        });
    }

    let classification: Option<String> = conn
        .query_row(
            "SELECT classification FROM organisation WHERE id = 1",
            [],
            |r| r.get(0),
        )
        .or_else(|e| match e {
            rusqlite::Error::QueryReturnedNoRows => Ok(None),
            e => Err(db_err(e)),
        })?;
    let classification = match classification {
        Some(text) => org::parse_classification(&text, &sites)
            .map_err(|e| corrupt(format!("stored classification rules: {e}")))?,
        None => org::ClassificationRules::default(),
    };

    Ok(Org {
        classification,
        organisation,
        vehicles,
        devices,
        employees,
        assignments,
        sites,
        users,
    })
}

/// Makes the stored organisation equal to `org`: upserts by natural key, retires the rest.
pub(super) fn write(conn: &Connection, org: &Org) -> Result<(), StoreError> {
    conn.execute(
        "INSERT INTO organisation (id, name, org_number, db_balancing_test, db_dpia, classification) VALUES (1, ?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (id) DO UPDATE SET name = excluded.name, org_number = excluded.org_number,
           db_balancing_test = excluded.db_balancing_test, db_dpia = excluded.db_dpia,
           classification = excluded.classification",
        params![
            org.organisation.name,
            org.organisation.org_number,
            org.organisation.driver_behaviour_basis.as_ref().map(|b| b.balancing_test.as_str()),
            org.organisation.driver_behaviour_basis.as_ref().map(|b| b.dpia.as_str()),
            Some(org::classification_toml(&org.classification)).filter(|t| !t.is_empty())
        ],
    )
    .map_err(db_err)?;

    for table in ["vehicle", "device", "employee", "assignment", "site"] {
        conn.execute(&format!("UPDATE {table} SET active = 0"), [])
            .map_err(db_err)?;
    }
    for v in &org.vehicles {
        conn.execute(
            "INSERT INTO vehicle (reg, kind, grp, description, purposes, active) VALUES (?1, ?2, ?3, ?4, ?5, 1)
             ON CONFLICT (reg) DO UPDATE SET kind = excluded.kind, grp = excluded.grp,
               description = excluded.description, purposes = excluded.purposes, active = 1",
            params![v.reg.as_str(), v.kind.as_str(), v.group, v.description, purposes_text(&v.purposes)],
        )
        .map_err(db_err)?;
    }
    for d in &org.devices {
        conn.execute(
            "INSERT INTO device (protocol, external_id, vehicle_id, model, privacy_input, panic_input, virtual_odometer, rank, active)
             VALUES (?1, ?2, (SELECT id FROM vehicle WHERE reg = ?3), ?4, ?5, ?6, ?7, ?8, 1)
             ON CONFLICT (protocol, external_id) DO UPDATE SET vehicle_id = excluded.vehicle_id,
               model = excluded.model, privacy_input = excluded.privacy_input,
               panic_input = excluded.panic_input, virtual_odometer = excluded.virtual_odometer,
               rank = excluded.rank, active = 1",
            params![
                d.protocol.as_str(),
                d.external_id.as_str(),
                d.vehicle.as_str(),
                d.model,
                d.privacy_input,
                d.panic_input,
                i64::from(d.virtual_odometer),
                d.rank
            ],
        )
        .map_err(db_err)?;
    }
    for e in &org.employees {
        conn.execute(
            "INSERT INTO employee (number, name, email, status, driver_id, phone, active) VALUES (?1, ?2, ?3, ?4, ?5, ?6, 1)
             ON CONFLICT (number) DO UPDATE SET name = excluded.name, email = excluded.email,
               status = excluded.status, driver_id = excluded.driver_id, phone = excluded.phone, active = 1",
            params![e.number, e.name, e.email, e.status.as_str(), e.driver_id, e.phone],
        )
        .map_err(db_err)?;
    }
    for a in &org.assignments {
        conn.execute(
            "INSERT INTO assignment (employee_id, vehicle_id, valid_from, valid_to, active)
             VALUES ((SELECT id FROM employee WHERE number = ?1), (SELECT id FROM vehicle WHERE reg = ?2), ?3, ?4, 1)
             ON CONFLICT (employee_id, vehicle_id, valid_from) DO UPDATE SET valid_to = excluded.valid_to, active = 1",
            params![a.employee, a.vehicle.as_str(), a.from.to_string(), a.to.map(|d| d.to_string())],
        )
        .map_err(db_err)?;
    }
    for s in &org.sites {
        conn.execute(
            "INSERT INTO site (name, kind, address, geometry, active) VALUES (?1, ?2, ?3, ?4, 1)
             ON CONFLICT (name) DO UPDATE SET kind = excluded.kind, address = excluded.address,
               geometry = excluded.geometry, active = 1",
            params![
                s.name,
                s.kind.as_str(),
                s.address,
                geometry_text(&s.geometry)
            ],
        )
        .map_err(db_err)?;
    }
    // Declared users: roles from the file; the password (if one was set) stays. A declared user
    // who left the file is disabled and their tokens end; users made on the command line are
    // left alone.
    let names: Vec<&str> = org.users.iter().map(|u| u.name.as_str()).collect();
    let mut stmt = conn
        .prepare("SELECT name FROM app_user WHERE declared = 1 AND disabled = 0")
        .map_err(db_err)?;
    let gone: Vec<String> = stmt
        .query_map([], |r| r.get::<_, String>(0))
        .map_err(db_err)?
        .collect::<Result<Vec<_>, _>>()
        .map_err(db_err)?
        .into_iter()
        .filter(|n| !names.contains(&n.as_str()))
        .collect();
    for name in gone {
        conn.execute("UPDATE app_user SET disabled = 1 WHERE name = ?1", [&name])
            .map_err(db_err)?;
        conn.execute(
            "UPDATE api_token SET revoked = 1 WHERE user_name = ?1",
            [&name],
        )
        .map_err(db_err)?;
    }
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
    for u in &org.users {
        conn.execute(
            "INSERT INTO app_user (name, roles, employee_number, password_hash, created_at, declared)
             VALUES (?1, ?2, ?3, NULL, ?4, 1)
             ON CONFLICT (name) DO UPDATE SET roles = excluded.roles,
               employee_number = excluded.employee_number, disabled = 0, declared = 1",
            params![u.name, u.roles.join(","), u.employee, now],
        )
        .map_err(db_err)?;
    }
    Ok(())
}
