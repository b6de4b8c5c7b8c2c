//! One Postfix instance: its configuration directory and the private
//! parameters postmulti reads for it.  The table of all instances, their
//! claims and selection are in [`crate::table`].

use crate::bytes::non_empty;
use crate::primary::Primary;

/// An instance's private parameters, in the order upstream asks postconf
/// for them (REQUEST_PARAM_COUNT = 5); [`Instance`] holds their values.
pub const REQUESTED: [&str; 5] = [
    "queue_directory",
    "data_directory",
    "multi_instance_name",
    "multi_instance_group",
    "multi_instance_enable",
];

/// The mandatory prefix of instance names (NAME_PREFIX).
pub const NAME_PREFIX: &[u8] = b"postfix-";

/// One Postfix instance: only its private settings.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Instance {
    pub config_dir: Vec<u8>,
    pub queue_dir: Vec<u8>,
    pub data_dir: Vec<u8>,
    /// None when the instance has no name.
    pub name: Option<Vec<u8>>,
    /// None when the instance is in no group.
    pub group: Option<Vec<u8>>,
    pub enabled: bool,
    pub primary: bool,
}

impl Instance {
    /// A secondary instance not yet read from its main.cf.
    pub fn secondary(config_dir: &[u8]) -> Instance {
        Instance {
            config_dir: config_dir.to_vec(),
            ..Instance::default()
        }
    }

    /// The primary instance, from the parameters already read.
    pub fn primary(p: &Primary) -> Instance {
        Instance {
            config_dir: p.config_dir.clone(),
            queue_dir: p.queue_dir.clone(),
            data_dir: p.data_dir.clone(),
            name: non_empty(&p.name),
            group: non_empty(&p.group),
            enabled: p.enable,
            primary: true,
        }
    }
}
