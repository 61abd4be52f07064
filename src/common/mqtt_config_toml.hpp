// Reads the [[mqtt]] tables of a parsed config file (used by config.cpp only). Errors name the
// file, the table and the key and say how to fix it; never touches the network.
#pragma once

#include <toml++/toml.h>

#include <string>
#include <vector>

#include "common/mqtt_config.hpp"
#include "common/status.hpp"

namespace castor {

Result<std::vector<MqttConfig>> read_mqtt_tables(const toml::node& node, const std::string& path);

}  // namespace castor
