-- SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers
-- SPDX-License-Identifier: ISC
-- Ardour headless (ardour7-lua) session for tests/hosts/ardour.sh.
-- Dummy backend; a mono track fed by a generator (Ardour's "ACE Noise"
-- Lua DSP, first on the track) into Quantone; precision set to 4 bits
-- through set_plugin_insert_param; the session range exported to WAV
-- twice: output level 0 dB, then -40 dB (proving the exported audio went
-- through Quantone, not around it). Prints QT_* lines the shell script
-- checks; Ardour's teardown may crash after this, so the script judges
-- by these lines and the files.
local dir = os.getenv("QT_ARDOUR_DIR")
local uri = "https://quantone.audio/plugins/quantone"
AudioEngine:set_backend("None (Dummy)", "", "")
local s = create_session(dir .. "/session", "quantone-test", 48000)
assert(s, "create_session failed")
local tl = s:new_audio_track(1, 2, nil, 1, "Guitar", ARDOUR.PresentationInfo.max_order,
                             ARDOUR.TrackMode.Normal, true)
local t = tl:front()
local gen = ARDOUR.LuaAPI.new_luaproc(s, "ACE Noise")
assert(not gen:isnil(), "no ACE Noise generator")
t:add_processor_by_index(gen, 0, nil, true)
local p = ARDOUR.LuaAPI.new_plugin(s, uri, ARDOUR.PluginType.LV2, "")
if p:isnil() then
  print("QT_NO_PLUGIN")
  return
end
t:add_processor_by_index(p, 1, nil, true)
local pi = p:to_plugininsert()
local plug = pi:plugin(0)

-- parameter numbers by port symbol label, not by guessed position
local param = {}
for i = 0, plug:parameter_count() - 1 do
  local ok = false
  param[plug:parameter_label(plug:nth_parameter(i, ok))] = i
end
local P_PREC, P_OUT, P_WB = param["Precision"], param["Output level"], param["Weight memory"]
assert(P_PREC and P_OUT and P_WB, "Quantone parameters not found")

local ok = false
local function wb() return ARDOUR.LuaAPI.get_plugin_insert_param(pi, P_WB, ok) end
local before = wb()
ARDOUR.LuaAPI.set_plugin_insert_param(pi, P_PREC, 4)
local after = before
for i = 1, 50 do -- the variant is prepared in Ardour's LV2 worker
  ARDOUR.LuaAPI.usleep(100000)
  after = wb()
  if after ~= before then break end
end
print(string.format("QT_WEIGHT_BYTES %d %d", before, after))
print(string.format("QT_PRECISION %d", ARDOUR.LuaAPI.get_plugin_insert_param(pi, P_PREC, ok)))

local function export(name)
  local e = s:simple_export()
  e:set_folder(dir .. "/export")
  e:set_name(name)
  e:set_range(0, 3 * 48000)
  assert(e:set_preset("75969a1c-3133-4694-864b-a1fa50e43348"), "no WAV export preset")
  assert(e:check_outputs(), "export: no outputs")
  print("QT_EXPORT " .. name .. " " .. tostring(e:run_export()))
end
export("int4")
ARDOUR.LuaAPI.set_plugin_insert_param(pi, P_OUT, -40)
ARDOUR.LuaAPI.usleep(200000)
export("int4-minus40")
s:save_state("", false, false, false, false, false)
close_session()
print("QT_DONE")
