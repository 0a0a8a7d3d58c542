#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "config.h"
#include "test_util.h"

using namespace gapscope;

namespace {
std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const std::exception& e) {
    return e.what();
  }
  return "";
}
}  // namespace

TEST(Config, DefaultsAreThePapersCpuSetting) {
  Config c;
  EXPECT_EQ(c.dataset, "circles2");
  EXPECT_EQ(c.sde, "ou");
  EXPECT_DOUBLE_EQ(c.T, 10.0);
  EXPECT_DOUBLE_EQ(c.eps, 1e-5);
  EXPECT_EQ(c.hidden, 80);
  EXPECT_EQ(c.layers, 3);
  EXPECT_DOUBLE_EQ(c.softplus_beta, 100.0);
  EXPECT_EQ(c.batch_dsm, 1998);
  EXPECT_EQ(c.batch_collocation, 5000);
  EXPECT_EQ(c.batch_boundary, 1000);
  EXPECT_DOUBLE_EQ(c.lr, 1e-3);
  EXPECT_EQ(c.iterations, 100000);
  EXPECT_DOUBLE_EQ(c.box, 3.5);
  EXPECT_EQ(c.sample_steps, 400);
  EXPECT_NO_THROW(c.validate());
}

TEST(Config, JsonRoundTrip) {
  Config c;
  c.dataset = "blob";
  c.box = 5.5;
  c.lambda = 0.1;
  Config d = config_from_json(to_json(c));
  EXPECT_EQ(to_json(d), to_json(c));
}

TEST(Config, ShippedExperimentsLoad) {
  for (const char* name : {"circles2", "checker", "blob", "mixture1d"}) {
    Config c = load_config(std::string(GAPSCOPE_SOURCE_DIR) + "/assets/experiments/" + name + ".json");
    EXPECT_EQ(c.dataset, name);
  }
  EXPECT_DOUBLE_EQ(load_config(std::string(GAPSCOPE_SOURCE_DIR) + "/assets/experiments/blob.json").box, 5.5);
}

TEST(Config, UnknownKeyIsNamed) {
  auto e = error_of([] { config_from_json(nlohmann::json{{"lamda", 1}}, "exp.json"); });
  EXPECT_NE(e.find("exp.json"), std::string::npos) << e;
  EXPECT_NE(e.find("unknown key 'lamda'"), std::string::npos) << e;
}

TEST(Config, WrongTypeNamesKeyAndValue) {
  auto e = error_of([] { config_from_json(nlohmann::json{{"hidden", "wide"}}); });
  EXPECT_NE(e.find("'hidden'"), std::string::npos) << e;
  EXPECT_NE(e.find("\"wide\""), std::string::npos) << e;
  EXPECT_NE(e.find("an integer"), std::string::npos) << e;
}

TEST(Config, BadValueNamesKeyAndValue) {
  auto e = error_of([] { config_from_json(nlohmann::json{{"dataset", "spiral"}}); });
  EXPECT_NE(e.find("'dataset'"), std::string::npos) << e;
  EXPECT_NE(e.find("spiral"), std::string::npos) << e;
  e = error_of([] { config_from_json(nlohmann::json{{"lr", -1.0}}); });
  EXPECT_NE(e.find("'lr' = -1"), std::string::npos) << e;
  e = error_of([] { config_from_json(nlohmann::json{{"sde", "vp"}}); });
  EXPECT_NE(e.find("'T'"), std::string::npos) << e;  // VP needs T <= 1
}

TEST(Config, OverridesParseJsonValues) {
  Config c;
  apply_override(c, "lambda=1");
  EXPECT_DOUBLE_EQ(c.lambda, 1.0);
  apply_override(c, "dataset=blob");
  EXPECT_EQ(c.dataset, "blob");
  apply_override(c, "mixture_weights=[1,2]");
  apply_override(c, "mixture_means=[0,1]");
  apply_override(c, "mixture_widths=[0.1,0.2]");
  EXPECT_EQ(c.mixture_weights.size(), 2u);
  EXPECT_NE(error_of([&] { apply_override(c, "iterations=many"); }).find("'iterations'"), std::string::npos);
  EXPECT_NE(error_of([&] { apply_override(c, "nokey=1"); }).find("unknown key 'nokey'"), std::string::npos);
  EXPECT_NE(error_of([&] { apply_override(c, "novalue"); }).find("key=value"), std::string::npos);
}

TEST(Config, BadJsonFileNamesFile) {
  auto dir = gapscope::testing::temp_dir("config");
  auto p = (dir / "broken.json").string();
  std::ofstream(p) << "{\"lambda\": }";
  auto e = error_of([&] { load_config(p); });
  EXPECT_NE(e.find(p), std::string::npos) << e;
  EXPECT_NE(e.find("invalid JSON"), std::string::npos) << e;
}
