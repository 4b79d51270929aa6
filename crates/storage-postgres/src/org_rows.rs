//! The organisation's rows: load the active organisation, write a desired one.

use domain::{ExternalId, Protocol, RegNo, VehicleKind};
use org::{
    Assignment, Device, Employee, EmployeeStatus, Geometry, Org, Organisation, Purpose, Site,
    SiteKind, Vehicle,
};
use storage::StoreError;
use tokio_postgres::GenericClient;

use crate::{execute, get, query, query_opt};

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

fn purposes_text(p: &[Purpose]) -> String {
    p.iter().map(|p| p.as_str()).collect::<Vec<_>>().join(",")
}

fn list(s: &str) -> Vec<String> {
    s.split(',')
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

pub(crate) fn load<C: GenericClient>(c: &C) -> Result<Org, StoreError> {
    let organisation = match query_opt(
        c,
        "SELECT name, org_number, db_balancing_test, db_dpia FROM organisation WHERE id = 1",
        &[],
    )? {
        None => Organisation::default(),
        Some(r) => {
            let balancing: Option<String> = get(&r, 2)?;
            let dpia: Option<String> = get(&r, 3)?;
            Organisation {
                name: get(&r, 0)?,
                org_number: get(&r, 1)?,
                driver_behaviour_basis: balancing.zip(dpia).map(|(balancing_test, dpia)| {
                    org::LegalBasis {
                        balancing_test,
                        dpia,
                    }
                }),
            }
        }
    };

    let mut vehicles = Vec::new();
    for r in query(
        c,
        "SELECT reg, kind, grp, description, purposes FROM vehicle WHERE active ORDER BY id",
        &[],
    )? {
        let purposes = list(&get::<String>(&r, 4)?)
            .iter()
            .map(|s| Purpose::parse(s).ok_or_else(|| corrupt(format!("purpose {s:?}"))))
            .collect::<Result<Vec<_>, _>>()?;
        vehicles.push(Vehicle {
            reg: RegNo::parse(&get::<String>(&r, 0)?).map_err(corrupt)?,
            kind: VehicleKind::parse(&get::<String>(&r, 1)?).map_err(corrupt)?,
            group: get(&r, 2)?,
            description: get(&r, 3)?,
            purposes,
        });
    }

    let mut devices = Vec::new();
    for r in query(
        c,
        "SELECT d.protocol, d.external_id, v.reg, d.model, d.privacy_input, d.panic_input,
                d.virtual_odometer, d.rank
         FROM device d JOIN vehicle v ON v.id = d.vehicle_id WHERE d.active ORDER BY d.id",
        &[],
    )? {
        let protocol = Protocol::parse(&get::<String>(&r, 0)?).map_err(corrupt)?;
        devices.push(Device {
            protocol,
            external_id: ExternalId::parse(protocol, &get::<String>(&r, 1)?).map_err(corrupt)?,
            vehicle: RegNo::parse(&get::<String>(&r, 2)?).map_err(corrupt)?,
            model: get(&r, 3)?,
            privacy_input: get(&r, 4)?,
            panic_input: get(&r, 5)?,
            virtual_odometer: get(&r, 6)?,
            rank: get::<Option<i16>>(&r, 7)?
                .map(|v| u8::try_from(v).map_err(|_| corrupt(format!("device rank {v}"))))
                .transpose()?,
        });
    }

    let mut employees = Vec::new();
    for r in query(
        c,
        "SELECT number, name, email, status, driver_id, phone FROM employee WHERE active ORDER BY id",
        &[],
    )? {
        let status: String = get(&r, 3)?;
        employees.push(Employee {
            number: get(&r, 0)?,
            name: get(&r, 1)?,
            email: get(&r, 2)?,
            phone: get(&r, 5)?,
            status: EmployeeStatus::parse(&status)
                .ok_or_else(|| corrupt(format!("status {status:?}")))?,
            driver_id: get(&r, 4)?,
        });
    }

    let mut assignments = Vec::new();
    for r in query(
        c,
        "SELECT e.number, v.reg, a.valid_from, a.valid_to FROM assignment a
         JOIN employee e ON e.id = a.employee_id JOIN vehicle v ON v.id = a.vehicle_id
         WHERE a.active ORDER BY a.id",
        &[],
    )? {
        assignments.push(Assignment {
            employee: get(&r, 0)?,
            vehicle: RegNo::parse(&get::<String>(&r, 1)?).map_err(corrupt)?,
            from: get(&r, 2)?,
            to: get(&r, 3)?,
        });
    }

    let mut sites = Vec::new();
    for r in query(
        c,
        "SELECT name, kind, address, geometry FROM site WHERE active ORDER BY id",
        &[],
    )? {
        let kind: String = get(&r, 1)?;
        sites.push(Site {
            name: get(&r, 0)?,
            kind: SiteKind::parse(&kind).ok_or_else(|| corrupt(format!("site kind {kind:?}")))?,
            address: get(&r, 2)?,
            geometry: parse_geometry(&get::<String>(&r, 3)?)?,
        });
    }

    let mut users = Vec::new();
    for r in query(
        c,
        "SELECT name, roles, employee_number FROM app_user WHERE declared AND NOT disabled ORDER BY id",
        &[],
    )? {
        users.push(org::User {
            name: get(&r, 0)?,
            roles: list(&get::<String>(&r, 1)?),
            employee: get(&r, 2)?,
        });
    }

    let classification: Option<String> = match query_opt(
        c,
        "SELECT classification FROM organisation WHERE id = 1",
        &[],
    )? {
        Some(r) => get(&r, 0)?,
        None => None,
    };
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
pub(crate) fn write<C: GenericClient>(c: &C, org: &Org, now_ms: i64) -> Result<(), StoreError> {
    let basis = org.organisation.driver_behaviour_basis.as_ref();
    execute(
        c,
        "INSERT INTO organisation (id, name, org_number, db_balancing_test, db_dpia, classification)
         VALUES (1, $1, $2, $3, $4, $5)
         ON CONFLICT (id) DO UPDATE SET name = excluded.name, org_number = excluded.org_number,
           db_balancing_test = excluded.db_balancing_test, db_dpia = excluded.db_dpia,
           classification = excluded.classification",
        &[
            &org.organisation.name,
            &org.organisation.org_number,
            &basis.map(|b| b.balancing_test.as_str()),
            &basis.map(|b| b.dpia.as_str()),
            &Some(org::classification_toml(&org.classification)).filter(|t| !t.is_empty()),
        ],
    )?;
    for table in ["vehicle", "device", "employee", "assignment", "site"] {
        execute(c, &format!("UPDATE {table} SET active = FALSE"), &[])?;
    }
    for v in &org.vehicles {
        execute(
            c,
            "INSERT INTO vehicle (reg, kind, grp, description, purposes, active) VALUES ($1, $2, $3, $4, $5, TRUE)
             ON CONFLICT (reg) DO UPDATE SET kind = excluded.kind, grp = excluded.grp,
               description = excluded.description, purposes = excluded.purposes, active = TRUE",
            &[
                &v.reg.as_str(),
                &v.kind.as_str(),
                &v.group,
                &v.description,
                &purposes_text(&v.purposes),
            ],
        )?;
    }
    for d in &org.devices {
        execute(
            c,
            "INSERT INTO device (protocol, external_id, vehicle_id, model, privacy_input, panic_input,
               virtual_odometer, rank, active)
             VALUES ($1, $2, (SELECT id FROM vehicle WHERE reg = $3), $4, $5, $6, $7, $8, TRUE)
             ON CONFLICT (protocol, external_id) DO UPDATE SET vehicle_id = excluded.vehicle_id,
               model = excluded.model, privacy_input = excluded.privacy_input,
               panic_input = excluded.panic_input, virtual_odometer = excluded.virtual_odometer,
               rank = excluded.rank, active = TRUE",
            &[
                &d.protocol.as_str(),
                &d.external_id.as_str(),
                &d.vehicle.as_str(),
                &d.model,
                &d.privacy_input,
                &d.panic_input,
                &d.virtual_odometer,
                &d.rank.map(i16::from),
            ],
        )?;
    }
    for e in &org.employees {
        execute(
            c,
            "INSERT INTO employee (number, name, email, status, driver_id, phone, active)
             VALUES ($1, $2, $3, $4, $5, $6, TRUE)
             ON CONFLICT (number) DO UPDATE SET name = excluded.name, email = excluded.email,
               status = excluded.status, driver_id = excluded.driver_id, phone = excluded.phone,
               active = TRUE",
            &[
                &e.number,
                &e.name,
                &e.email,
                &e.status.as_str(),
                &e.driver_id,
                &e.phone,
            ],
        )?;
    }
    for a in &org.assignments {
        execute(
            c,
            "INSERT INTO assignment (employee_id, vehicle_id, valid_from, valid_to, active)
             VALUES ((SELECT id FROM employee WHERE number = $1), (SELECT id FROM vehicle WHERE reg = $2), $3, $4, TRUE)
             ON CONFLICT (employee_id, vehicle_id, valid_from) DO UPDATE SET valid_to = excluded.valid_to, active = TRUE",
            &[&a.employee, &a.vehicle.as_str(), &a.from, &a.to],
        )?;
    }
    for s in &org.sites {
        execute(
            c,
            "INSERT INTO site (name, kind, address, geometry, active) VALUES ($1, $2, $3, $4, TRUE)
             ON CONFLICT (name) DO UPDATE SET kind = excluded.kind, address = excluded.address,
               geometry = excluded.geometry, active = TRUE",
            &[
                &s.name,
                &s.kind.as_str(),
                &s.address,
                &geometry_text(&s.geometry),
            ],
        )?;
    }
    // Declared users: roles from the file; the password (if one was set) stays. A declared user
    // who left the file is disabled and their tokens end; users made on the command line are
    // left alone.
    let names: Vec<&str> = org.users.iter().map(|u| u.name.as_str()).collect();
    execute(
        c,
        "WITH gone AS (UPDATE app_user SET disabled = TRUE
                       WHERE declared AND NOT disabled AND NOT (name = ANY($1)) RETURNING name)
         UPDATE api_token SET revoked = TRUE WHERE user_name IN (SELECT name FROM gone)",
        &[&names],
    )?;
    for u in &org.users {
        execute(
            c,
            "INSERT INTO app_user (name, roles, employee_number, password_hash, created_at, declared)
             VALUES ($1, $2, $3, NULL, $4, TRUE)
             ON CONFLICT (name) DO UPDATE SET roles = excluded.roles,
               employee_number = excluded.employee_number, disabled = FALSE, declared = TRUE",
            &[&u.name, &u.roles.join(","), &u.employee, &now_ms],
        )?;
    }
    Ok(())
}
