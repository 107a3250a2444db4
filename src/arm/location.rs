//! The datacenters a job's drives are shipped to: the provider's *Locations*.
//!
//! A job's `location` is the Azure region whose datacenter receives its drives; the service
//! answers *Get Job* with that datacenter's address as `shippingInformation`, and refuses a
//! job in a region it does not ship to. A [`Catalogue`] holds the regions a host serves: by
//! default the [`builtin`](Catalogue::builtin) one, the three locations whose addresses the
//! service's REST specification publishes (`GetLocation.json`, `ListLocations.json`,
//! api-version 2021-01-01), or one read from a file in the shape of *List Locations*' answer
//! ([`Catalogue::from_json`]).
//!
//! A location has two spellings, both accepted wherever a location is named: its display name
//! (`West US`) and the last segment of its id (`westus`). Both are compared without regard to
//! case or spaces, as ARM compares region names.

use serde::{Deserialize, Serialize};

use super::types::ShippingInformation;

/// The resource type of a location, as the service writes it.
pub const LOCATION_TYPE: &str = "Microsoft.ImportExport/locations";

/// Every location id starts with this, followed by the location's short name.
pub const LOCATION_ID_PREFIX: &str = "/providers/Microsoft.ImportExport/locations/";

/// The largest catalogue file read, in bytes.
pub const MAX_CATALOGUE_BYTES: usize = 1 << 20;

/// The most locations a catalogue holds.
pub const MAX_LOCATIONS: usize = 1000;

/// The most characters of a location's name, and of each of its address fields.
const MAX_FIELD_CHARS: usize = 256;

/// The built-in catalogue, as *List Locations* answers it.
const BUILTIN: &str = include_str!("locations.json");

/// One datacenter, as *Get Location* answers it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Location {
    /// `/providers/Microsoft.ImportExport/locations/{short name}`.
    pub id: String,
    /// The display name, `West US`.
    pub name: String,
    /// Always [`LOCATION_TYPE`].
    #[serde(rename = "type")]
    pub resource_type: String,
    /// The datacenter's address and carriers.
    pub properties: LocationProperties,
}

/// Where and how drives are shipped to one datacenter.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LocationProperties {
    /// Who receives the package.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recipient_name: Option<String>,
    /// First street line.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub street_address1: Option<String>,
    /// Second street line.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub street_address2: Option<String>,
    /// City.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub city: Option<String>,
    /// State or province.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state_or_province: Option<String>,
    /// Postal code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub postal_code: Option<String>,
    /// Country or region.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country_or_region: Option<String>,
    /// Phone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    /// Anything else the shipper must know.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub additional_shipping_information: Option<String>,
    /// The carriers that deliver there.
    #[serde(default)]
    pub supported_carriers: Vec<String>,
    /// Ids of the locations whose drives this datacenter also receives.
    #[serde(default)]
    pub alternate_locations: Vec<String>,
}

impl Location {
    /// The location's short name: the last segment of its id (`westus`).
    pub fn short_name(&self) -> &str {
        self.id.get(LOCATION_ID_PREFIX.len()..).unwrap_or_default()
    }

    /// The address a job in this location ships its drives to, as *Get Job* shows it.
    pub fn shipping_information(&self) -> ShippingInformation {
        let p = &self.properties;
        ShippingInformation {
            recipient_name: p.recipient_name.clone(),
            street_address1: p.street_address1.clone(),
            street_address2: p.street_address2.clone(),
            city: p.city.clone(),
            state_or_province: p.state_or_province.clone(),
            postal_code: p.postal_code.clone(),
            country_or_region: p.country_or_region.clone(),
            phone: p.phone.clone(),
            additional_information: p.additional_shipping_information.clone(),
        }
    }
}

/// The body of *List Locations*, and the shape of a catalogue file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct LocationList {
    value: Vec<Location>,
}

/// The locations a host serves, in the order *List Locations* shows them. Its serde form is
/// *List Locations*' body, `{"value": [Location, …]}`, checked as [`Catalogue::from_json`]
/// checks a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Catalogue {
    locations: Vec<Location>,
}

impl Serialize for Catalogue {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        LocationListRef { value: &self.locations }.serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for Catalogue {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let list = LocationList::deserialize(crate::wire::strict::Strict::object(deserializer))?;
        Catalogue::from_list(list).map_err(serde::de::Error::custom)
    }
}

#[derive(Serialize)]
struct LocationListRef<'l> {
    value: &'l [Location],
}

impl Default for Catalogue {
    fn default() -> Self {
        Catalogue::builtin()
    }
}

impl Catalogue {
    /// The locations whose addresses the service's REST specification publishes: West US,
    /// Australia East and Australia Southeast.
    pub fn builtin() -> Catalogue {
        match Catalogue::from_json(BUILTIN) {
            Ok(catalogue) => catalogue,
            // The embedded text is checked by this module's tests; an empty catalogue would
            // refuse every job's location, which no test would miss either.
            Err(_) => Catalogue { locations: Vec::new() },
        }
    }

    /// Reads a catalogue from `text`, in the shape of *List Locations*' answer
    /// (`{"value": [Location, …]}`), strictly: no unknown field, no key twice.
    ///
    /// # Errors
    ///
    /// A message naming the place (`value[1].id: …`) when the text is over
    /// [`MAX_CATALOGUE_BYTES`], is not such a list, holds no location or more than
    /// [`MAX_LOCATIONS`], or a location whose id is not [`LOCATION_ID_PREFIX`] and a short name
    /// of 1 to 64 lower-case letters and digits, whose type is not [`LOCATION_TYPE`], whose name
    /// or an address field is empty or over 256 characters, or that shares a spelling with
    /// another location.
    pub fn from_json(text: &str) -> Result<Catalogue, String> {
        if text.len() > MAX_CATALOGUE_BYTES {
            return Err(format!("{} bytes: a catalogue holds at most {MAX_CATALOGUE_BYTES}", text.len()));
        }
        let list: LocationList = crate::wire::strict::from_json(text).map_err(|e| e.to_string())?;
        Catalogue::from_list(list)
    }

    /// The checks of [`from_json`](Catalogue::from_json), on a list already read.
    fn from_list(list: LocationList) -> Result<Catalogue, String> {
        if list.value.is_empty() {
            return Err("value: holds no location".into());
        }
        if list.value.len() > MAX_LOCATIONS {
            return Err(format!("value: {} locations, at most {MAX_LOCATIONS}", list.value.len()));
        }
        for (i, location) in list.value.iter().enumerate() {
            check(location).map_err(|e| format!("value[{i}].{e}"))?;
            if let Some(j) = list.value[..i].iter().position(|other| shares_a_spelling(other, location)) {
                return Err(format!(
                    "value[{i}]: {:?} is spelt like value[{j}] ({:?})",
                    location.name, list.value[j].name
                ));
            }
        }
        Ok(Catalogue { locations: list.value })
    }

    /// The location `name` names, by either spelling (`West US`, `westus`, `WestUS`).
    pub fn get(&self, name: &str) -> Option<&Location> {
        let wanted = spelling(name);
        self.locations.iter().find(|l| spelling(&l.name) == wanted || l.short_name() == wanted)
    }

    /// Every location, in the catalogue's order.
    pub fn iter(&self) -> impl Iterator<Item = &Location> {
        self.locations.iter()
    }

    /// The display names, for a refusal that says which locations exist.
    pub fn names(&self) -> String {
        self.locations.iter().map(|l| l.name.as_str()).collect::<Vec<_>>().join(", ")
    }

    /// The body of *List Locations*: `{"value": [Location, …]}`.
    pub fn list_body(&self) -> serde_json::Value {
        serde_json::to_value(self).unwrap_or_else(|_| serde_json::json!({ "value": [] }))
    }
}

/// A location's name as ARM compares it: lower case, without spaces.
fn spelling(name: &str) -> String {
    name.chars().filter(|c| !c.is_whitespace()).flat_map(char::to_lowercase).collect()
}

fn shares_a_spelling(a: &Location, b: &Location) -> bool {
    let (a_name, b_name) = (spelling(&a.name), spelling(&b.name));
    a_name == b_name
        || a.short_name() == b.short_name()
        || a_name == b.short_name()
        || b_name == a.short_name()
}

/// One location's own checks; the error starts with the field's name.
fn check(location: &Location) -> Result<(), String> {
    let short = location
        .id
        .strip_prefix(LOCATION_ID_PREFIX)
        .ok_or_else(|| format!("id: {:?} does not start with {LOCATION_ID_PREFIX}", location.id))?;
    if short.is_empty()
        || short.len() > 64
        || !short.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
    {
        return Err(format!("id: {short:?} is not a short name of 1 to 64 lower-case letters and digits"));
    }
    if location.resource_type != LOCATION_TYPE {
        return Err(format!("type: {:?} is not {LOCATION_TYPE}", location.resource_type));
    }
    check_text("name", Some(&location.name), true)?;
    let p = &location.properties;
    let fields = [
        ("recipientName", &p.recipient_name),
        ("streetAddress1", &p.street_address1),
        ("streetAddress2", &p.street_address2),
        ("city", &p.city),
        ("stateOrProvince", &p.state_or_province),
        ("postalCode", &p.postal_code),
        ("countryOrRegion", &p.country_or_region),
        ("phone", &p.phone),
        ("additionalShippingInformation", &p.additional_shipping_information),
    ];
    for (field, value) in fields {
        check_text(&format!("properties.{field}"), value.as_ref(), false)?;
    }
    for (field, list) in
        [("supportedCarriers", &p.supported_carriers), ("alternateLocations", &p.alternate_locations)]
    {
        if list.len() > 64 {
            return Err(format!("properties.{field}: {} entries, at most 64", list.len()));
        }
        for (i, value) in list.iter().enumerate() {
            check_text(&format!("properties.{field}[{i}]"), Some(value), true)?;
        }
    }
    Ok(())
}

fn check_text(field: &str, value: Option<&String>, required: bool) -> Result<(), String> {
    match value {
        Some(text) if text.chars().count() > MAX_FIELD_CHARS => {
            Err(format!("{field}: {} characters, at most {MAX_FIELD_CHARS}", text.chars().count()))
        }
        Some(text) if text.chars().any(char::is_control) => {
            Err(format!("{field}: holds a control character"))
        }
        Some(text) if required && text.trim().is_empty() => Err(format!("{field}: empty")),
        Some(_) | None => Ok(()),
    }
}
