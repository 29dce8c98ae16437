-- wrk script: the patron search by reading, cycling through common family-name readings.
local readings = {"ヤマダ", "サトウ", "スズキ", "タナカ", "ナカムラ", "コバヤシ", "イノウエ", "ハセガワ", "モリ", "アベ"}
local function encode(s)
  return (s:gsub("[^%w]", function(c) return string.format("%%%02X", string.byte(c)) end))
end
local paths = {}
for i, r in ipairs(readings) do paths[i] = "/patrons?q=" .. encode(r) end
local n = 0
request = function()
  n = n + 1
  return wrk.format("GET", paths[(n % #paths) + 1])
end
