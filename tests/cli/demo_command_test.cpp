// `smlm demo`: the end-to-end run writes its report folder (index.html, metrics.json, PNGs,
// localization CSVs), the shipped network beats classic fitting on Jaccard@100, --train trains
// and uses a fresh model, and bad flags fail with one line naming the flag. The runs here are
// short (20 frames; --train a few steps): they check the contract, docs/demo.md the full run.
#include <doctest/doctest.h>

#include <cctype>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "cli_run.hpp"

using namespace smlm::cli_test;

namespace {

/// A JSON value, as much of JSON as metrics.json uses (objects keep their order).
struct Json {
  enum class kind { null, boolean, number, string, array, object } type = kind::null;
  bool boolean = false;
  double number = 0;
  std::string string;
  std::vector<Json> array;
  std::vector<std::pair<std::string, Json>> object;

  const Json* find(const std::string& key) const {
    for (const auto& [k, v] : object)
      if (k == key) return &v;
    return nullptr;
  }
};

/// A recursive-descent JSON parser; `ok` turns false on any syntax error.
struct JsonParser {
  const std::string& text;
  std::size_t at = 0;
  bool ok = true;

  void space() {
    while (at < text.size() && std::isspace(static_cast<unsigned char>(text[at]))) ++at;
  }
  bool eat(char c) {
    space();
    if (at < text.size() && text[at] == c) return ++at, true;
    return false;
  }
  std::string string() {
    std::string s;
    if (!eat('"')) return ok = false, s;
    while (at < text.size() && text[at] != '"') {
      if (text[at] == '\\' && at + 1 < text.size()) ++at;
      s += text[at++];
    }
    if (at >= text.size()) ok = false;
    ++at;
    return s;
  }
  Json value() {
    Json v;
    space();
    if (at >= text.size()) return ok = false, v;
    const char c = text[at];
    if (c == '{') {
      v.type = Json::kind::object;
      ++at;
      if (eat('}')) return v;
      do {
        std::string key = string();
        if (!eat(':')) return ok = false, v;
        v.object.emplace_back(std::move(key), value());
      } while (ok && eat(','));
      if (!eat('}')) ok = false;
    } else if (c == '[') {
      v.type = Json::kind::array;
      ++at;
      if (eat(']')) return v;
      do v.array.push_back(value());
      while (ok && eat(','));
      if (!eat(']')) ok = false;
    } else if (c == '"') {
      v.type = Json::kind::string;
      v.string = string();
    } else if (text.compare(at, 4, "true") == 0 || text.compare(at, 5, "false") == 0) {
      v.type = Json::kind::boolean;
      v.boolean = text[at] == 't';
      at += v.boolean ? 4 : 5;
    } else if (text.compare(at, 4, "null") == 0) {
      at += 4;
    } else {
      std::size_t used = 0;
      try {
        v.number = std::stod(text.substr(at, 64), &used);
      } catch (const std::exception&) {
        used = 0;
      }
      if (used == 0) return ok = false, v;
      v.type = Json::kind::number;
      at += used;
    }
    return v;
  }
};

Json parse_json(const std::string& text) {
  JsonParser p{text};
  Json v = p.value();
  p.space();
  REQUIRE(p.ok);
  REQUIRE(p.at == text.size());
  return v;
}

/// The line of `output` that starts with `start`.
std::string line_starting(const std::string& output, const std::string& start) {
  for (const std::string& line : split_lines(output))
    if (line.starts_with(start)) return line;
  FAIL("no line starting with '" << start << "' in:\n" << output);
  return {};
}

}  // namespace

TEST_CASE("demo writes its report folder, and the shipped network beats classic fitting") {
  const std::string out = tmp_dir + "/demo_run";
  std::filesystem::remove_all(out);
  const auto r = run_smlm("demo -q -o " + out + " --frames 20 --threads 2");
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  CHECK(line_starting(r.output, "report=").starts_with("report=" + out + "/index.html"));

  // At least 6 PNGs, every one a PNG of the whole field at a quarter of the camera pixel.
  int pngs = 0;
  for (const std::string& name : files_in(out)) {
    if (!name.ends_with(".png") || name == "overview.png") continue;
    CAPTURE(name);
    ++pngs;
    const auto [w, h] = png_size(out + "/" + name);
    CHECK(w == 512);
    CHECK(h == 512);
    CHECK(std::filesystem::file_size(out + "/" + name) > 1000);
  }
  CHECK(pngs >= 6);
  // overview.png: four 256-pixel panels (half the size) side by side under their captions.
  CHECK(png_size(out + "/overview.png") == std::pair<std::uint32_t, std::uint32_t>{4 * 256 + 5 * 8, 7 * 2 + 2 * 8 + 256 + 8});
  for (const char* name : {"widefield.png", "truth.png", "classic.png", "network.png", "frame_raw.png", "frame_network.png"}) {
    CAPTURE(name);
    CHECK(std::filesystem::exists(out + "/" + name));
  }

  // The localization tables: ThunderSTORM headers, a row per localization.
  for (const char* name : {"truth.csv", "network.csv", "classic.csv"}) {
    CAPTURE(name);
    const std::string csv = slurp(out + "/" + name);
    CHECK(csv.starts_with("\"id\",\"frame\",\"x [nm]\",\"y [nm]\""));
    CHECK(lines(csv) > 500);  // about 47 emitters per frame
  }

  // metrics.json: every method and tolerance, fractions in [0, 1], finite RMSE.
  const Json metrics = parse_json(slurp(out + "/metrics.json"));
  REQUIRE(metrics.type == Json::kind::object);
  for (const char* method : {"network", "classic"}) {
    const Json* m = metrics.find(method);
    REQUIRE(m != nullptr);
    for (const char* tolerance : {"50", "100", "250"}) {
      CAPTURE(method);
      CAPTURE(tolerance);
      const Json* t = m->find(tolerance);
      REQUIRE(t != nullptr);
      for (const char* key : {"jaccard", "precision", "recall"}) {
        CAPTURE(key);
        const Json* v = t->find(key);
        REQUIRE(v != nullptr);
        REQUIRE(v->type == Json::kind::number);
        CHECK(v->number >= 0);
        CHECK(v->number <= 1);
      }
      const Json* rmse = t->find("rmse_nm");
      REQUIRE(rmse != nullptr);
      REQUIRE(rmse->type == Json::kind::number);
      CHECK(std::isfinite(rmse->number));
      CHECK(rmse->number >= 0);
    }
  }
  const double network = metrics.find("network")->find("100")->find("jaccard")->number;
  const double classic = metrics.find("classic")->find("100")->find("jaccard")->number;
  CHECK(network > classic);
  CHECK(network >= 0.9);  // docs/model-card.md: 0.963 on 300 frames of these conditions
  CHECK(metrics.find("trained")->type == Json::kind::boolean);
  CHECK_FALSE(metrics.find("trained")->boolean);
  // The printed headline agrees with the file.
  CHECK(field(line_starting(r.output, "network "), "jaccard@100") == doctest::Approx(network).epsilon(1e-3));
  CHECK(field(line_starting(r.output, "classic "), "jaccard@100") == doctest::Approx(classic).epsilon(1e-3));

  // index.html: shows every picture of the folder and the metrics, and needs nothing else.
  const std::string html = slurp(out + "/index.html");
  CHECK(html.starts_with("<!DOCTYPE html>"));
  for (const std::string& name : files_in(out))
    if (name.ends_with(".png")) {
      CAPTURE(name);
      CHECK(html.find("<img src=\"" + name + "\"") != std::string::npos);
    }
  CHECK(html.find("<table>") != std::string::npos);
  CHECK(html.find("Jaccard") != std::string::npos);
  CHECK(html.find("://") == std::string::npos);
  CHECK(html.find("<script") == std::string::npos);
  CHECK(html.find("<link") == std::string::npos);
}

TEST_CASE("demo --train trains a fresh model for the demo's conditions and uses it") {
  // A few steps only: the contract (model written, used, reported), not its accuracy.
  const std::string out = tmp_dir + "/demo_train";
  std::filesystem::remove_all(out);
  const auto r = run_smlm("demo -q -o " + out + " --train --train-steps 2 --frames 3 --size 32 --threads 2");
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  CHECK(line_starting(r.output, "arch=sub_pixel").find(" steps=2 ") != std::string::npos);
  CHECK(std::filesystem::file_size(out + "/model.smlm") > 0);
  const Json metrics = parse_json(slurp(out + "/metrics.json"));
  CHECK(metrics.find("trained")->boolean);
  CHECK(metrics.find("model")->string == out + "/model.smlm");
  const auto [w, h] = png_size(out + "/network.png");
  CHECK(w == 128);
  CHECK(h == 128);
}

/// The comma-separated fields of one CSV line.
std::vector<std::string> csv_fields(const std::string& line) {
  std::vector<std::string> out;
  std::size_t start = 0;
  for (std::size_t comma; (comma = line.find(',', start)) != std::string::npos; start = comma + 1)
    out.push_back(line.substr(start, comma - start));
  out.push_back(line.substr(start));
  return out;
}

TEST_CASE("demo --sweep scores network and classic fitting over photons x quality, as smlm evaluate does") {
  const std::string out = tmp_dir + "/demo_sweep";
  std::filesystem::remove_all(out);
  const auto r = run_smlm("demo -q -o " + out +
                          " --sweep --sweep-photons 1000,100 --sweep-qualities 60,none --frames 10 --size 48 --threads 2");
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  CHECK(line_starting(r.output, "report=").starts_with("report=" + out + "/sweep.html"));

  // sweep.csv: a row per condition and method, in the order given, with consistent counts.
  const std::vector<std::string> csv = split_lines(slurp(out + "/sweep.csv"));
  REQUIRE(csv.size() == 9);
  CHECK(csv[0] ==
        "photons,quality,truth,method,tp_200,fp_200,fn_200,mean_distance_nm_200,jaccard_100,rmse_nm_100,localizations,"
        "seconds");
  const std::vector<std::pair<std::string, std::string>> order{{"1000", "60"}, {"1000", "none"}, {"100", "60"}, {"100", "none"}};
  std::string truth_rows;
  for (std::size_t i = 1; i < csv.size(); ++i) {
    CAPTURE(csv[i]);
    const std::vector<std::string> f = csv_fields(csv[i]);
    REQUIRE(f.size() == 12);
    CHECK(f[0] == order[(i - 1) / 2].first);
    CHECK(f[1] == order[(i - 1) / 2].second);
    CHECK(f[3] == (i % 2 ? "network" : "classic"));
    // One seed: the same emitters blink in every condition, only their photons and the codec differ.
    if (truth_rows.empty()) truth_rows = f[2];
    CHECK(f[2] == truth_rows);
    const long truth = std::stol(f[2]), tp = std::stol(f[4]), fp = std::stol(f[5]), fn = std::stol(f[6]);
    CHECK(truth > 50);
    CHECK(tp + fn == truth);
    CHECK(tp + fp == std::stol(f[10]));
    CHECK(std::stod(f[7]) >= 0);
    CHECK(std::stod(f[7]) <= 200);
    CHECK(std::stod(f[8]) >= 0);
    CHECK(std::stod(f[8]) <= 1);
  }
  // The network wins on Jaccard@100 at 1000 photons, compressed or not (docs/cellstorm.md).
  for (std::size_t i : {1u, 3u}) {
    CAPTURE(csv[i]);
    CHECK(std::stod(csv_fields(csv[i])[8]) > std::stod(csv_fields(csv[i + 1])[8]));
  }

  // Each condition's scores are those `smlm evaluate` gives for its files (Jaccard at 100 nm).
  const auto e = run_smlm("evaluate " + out + "/sweep/p100_q60.truth.csv " + out + "/sweep/p100_q60.network.csv --tolerance 100");
  REQUIRE(e.exit_code == 0);
  CHECK(field(e.output, "jaccard") == doctest::Approx(std::stod(csv_fields(csv[5])[8])).epsilon(1e-3));
  // The printed line of that condition agrees with the file.
  const std::string printed = line_starting(r.output, "sweep photons=100 quality=60 ");
  CHECK(field(printed, "network_tp200") == std::stod(csv_fields(csv[5])[4]));
  CHECK(field(printed, "classic_fp200") == std::stod(csv_fields(csv[6])[5]));

  // No movie kept without --keep-stacks; the localizations of every condition are.
  for (const std::string& name : files_in(out + "/sweep")) CHECK_FALSE(name.ends_with(".tif"));
  CHECK(files_in(out + "/sweep").size() == 12);

  // The Markdown table, the plot and the page.
  const std::vector<std::string> md = split_lines(slurp(out + "/sweep.md"));
  CHECK(md.size() == 6);
  CHECK(md[2].starts_with("| 1000 | 60 | " + truth_rows + " | "));
  CHECK(png_size(out + "/sweep.png") == std::pair<std::uint32_t, std::uint32_t>{900, 460});
  const std::string html = slurp(out + "/sweep.html");
  CHECK(html.starts_with("<!DOCTYPE html>"));
  CHECK(html.find("<img src=\"sweep.png\"") != std::string::npos);
  CHECK(html.find("://") == std::string::npos);
  CHECK(html.find("<script") == std::string::npos);
}

TEST_CASE("demo: bad flags and files fail with one line naming them") {
  const std::string out = tmp_dir + "/demo_bad";
  struct Case {
    std::string args, named;
  };
  const std::string file = tmp_dir + "/demo_not_a_folder";
  write_file(file, "x");
  const std::string empty = fresh_dir("demo_no_models");
  const std::vector<Case> cases{
      {"--pixel-nm -5", "--pixel-nm"},
      {"--pixel-nm 100", "--pixel-nm"},  // the shipped model's pixels are 80 nm
      {"--frames 0", "--frames"},
      {"--size 8", "--size"},
      {"--quality 101", "--quality"},
      {"--photons lots", "--photons"},
      {"--photons 500:100", "--photons"},
      {"--sigma-nm 0", "--sigma-nm"},
      {"--train-minutes -1", "--train-minutes"},
      {"--threads -2", "--threads"},
      {"--model " + tmp_dir + "/demo_missing.smlm", "demo_missing.smlm"},
      {"--model " + file, "demo_not_a_folder"},
      {"--models-dir " + empty, empty + "/sub_pixel_phone.smlm"},
      {"--train --model " + file, "--model"},
      {"--sweep --sweep-photons 0", "--sweep-photons"},
      {"--sweep --sweep-photons 100,lots", "--sweep-photons"},
      {"--sweep --sweep-photons 100:500", "--sweep-photons"},
      {"--sweep --sweep-photons 100,100", "--sweep-photons"},
      {"--sweep --sweep-qualities 60,101", "--sweep-qualities"},
      {"--sweep --sweep-qualities 60.5", "--sweep-qualities"},
      {"--sweep --sweep-qualities none,none", "--sweep-qualities"},
      {"--sweep --sweep-qualities ''", "--sweep-qualities"},
      {"--sweep --train", "--train"},
      {"--bogus", "--bogus"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.args);
    const auto r = run_smlm("demo -q -o " + out + " " + c.args);
    CHECK(r.exit_code != 0);
    CHECK(lines(r.output) == 1);
    CHECK(r.output.find(c.named) != std::string::npos);
  }
  // Nothing was written for a bad flag.
  CHECK_FALSE(std::filesystem::exists(out));
  // A report folder that cannot be made is named.
  const auto r = run_smlm("demo -q -o " + file + " --frames 1");
  CHECK(r.exit_code != 0);
  CHECK(lines(r.output) == 1);
  CHECK(r.output.find(file) != std::string::npos);
}
