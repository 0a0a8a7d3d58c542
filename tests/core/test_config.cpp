#include <gtest/gtest.h>

#include <limits>

#include <fstream>
#include <nlohmann/json.hpp>

#include "core/config.h"
#include "test_util.h"

using namespace gapscope;

using gapscope::testing::error_of;

TEST(Config, DefaultsAreThePapersCpuSetting) {
  Config c;
  EXPECT_EQ(c.dataset, "circles2");
  EXPECT_EQ(c.sde, "ou");
  EXPECT_DOUBLE_EQ(c.T, 10.0);
  EXPECT_DOUBLE_EQ(c.eps, 1e-5);
  EXPECT_EQ(c.hidden, 80);
  EXPECT_EQ(c.layers, 3);
  EXPECT_DOUBLE_EQ(c.softplus_beta, 100.0);
  EXPECT_EQ(c.batch_dsm, 20000);
  EXPECT_EQ(c.batch_collocation, 5000);
  EXPECT_EQ(c.batch_boundary, 1000);
  EXPECT_DOUBLE_EQ(c.boundary_weight, 0.0);
  EXPECT_EQ(c.lr_schedule, "1e-3:0.25,1e-4:0.65,1e-5:0.10");
  EXPECT_EQ(c.lambda_change, "reset_adam");
  EXPECT_DOUBLE_EQ(c.lr, 1e-3);
  EXPECT_EQ(c.iterations, 100000);
  EXPECT_DOUBLE_EQ(c.box, 3.5);
  EXPECT_EQ(c.sample_steps, 400);
  EXPECT_NO_THROW(c.validate());
}

// The paper's schedule: 25 % at 1e-3, 65 % at 1e-4, 10 % at 1e-5 of `iterations`; the last
// stage runs on past the budget (a resumed run continues in it).
TEST(Config, LrScheduleStagesAreFractionsOfTheIterations) {
  Config c;
  c.iterations = 1000;
  auto st = c.lr_stages();
  ASSERT_EQ(st.size(), 3u);
  EXPECT_DOUBLE_EQ(st[0].lr, 1e-3);
  EXPECT_DOUBLE_EQ(st[1].lr, 1e-4);
  EXPECT_DOUBLE_EQ(st[2].lr, 1e-5);
  EXPECT_EQ(st[0].begin, 0);
  EXPECT_EQ(st[0].end, 250);
  EXPECT_EQ(st[1].end, 900);
  EXPECT_EQ(st[2].end, std::numeric_limits<int64_t>::max());
  EXPECT_EQ(c.lr_stage_at(0), 0u);
  EXPECT_EQ(c.lr_stage_at(249), 0u);
  EXPECT_EQ(c.lr_stage_at(250), 1u);
  EXPECT_EQ(c.lr_stage_at(899), 1u);
  EXPECT_EQ(c.lr_stage_at(900), 2u);
  EXPECT_EQ(c.lr_stage_at(5000), 2u);
  c.lr_schedule = "constant";
  c.lr = 3e-4;
  st = c.lr_stages();
  ASSERT_EQ(st.size(), 1u);
  EXPECT_DOUBLE_EQ(st[0].lr, 3e-4);
  EXPECT_EQ(c.lr_stage_at(123456), 0u);
}

TEST(Config, BadLrScheduleNamesTheKey) {
  for (const char* bad : {"1e-3", "1e-3:0.5,1e-4:0.4", "x:1", "1e-3:1x", "-1:1", "", "1e-3:0.25,,1e-4:0.75"}) {
    const std::string e = error_of([&] { config_from_json(nlohmann::json{{"lr_schedule", bad}}); });
    EXPECT_NE(e.find("'lr_schedule'"), std::string::npos) << bad << ": " << e;
  }
  const std::string e = error_of([] { config_from_json(nlohmann::json{{"lr_schedule", "1e-3:0.5,1e-4:0.4"}}); });
  EXPECT_NE(e.find("add up to 1"), std::string::npos) << e;
  EXPECT_NE(error_of([] { config_from_json(nlohmann::json{{"boundary_weight", -1.0}}); }).find("'boundary_weight'"),
            std::string::npos);
  EXPECT_NE(error_of([] { config_from_json(nlohmann::json{{"lambda_change", "ramp"}}); }).find("'lambda_change'"),
            std::string::npos);
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
    // The paper's setting (math.md §5): its CPU batch sizes, no boundary term, the 25/65/10
    // schedule and the box [-3.5, 3.5]^2 for every data set.
    EXPECT_EQ(c.batch_dsm, 20000) << name;
    EXPECT_EQ(c.batch_collocation, 5000) << name;
    EXPECT_DOUBLE_EQ(c.boundary_weight, 0.0) << name;
    EXPECT_EQ(c.lr_schedule, "1e-3:0.25,1e-4:0.65,1e-5:0.10") << name;
    EXPECT_DOUBLE_EQ(c.box, 3.5) << name;
  }
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

TEST(Config, IntegersAreRangeCheckedBeforeNarrowingAndSizesAreCapped) {
  auto error = [](const std::string& set) {
    Config c;
    try {
      apply_overrides(c, {set});
    } catch (const std::invalid_argument& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  // 2^32 + 16 would wrap to 16 in an int.
  const std::string wrap = error("hidden=4294967312");
  EXPECT_NE(wrap.find("key 'hidden' = 4294967312: expected an integer in [-2147483648, 2147483647]"), std::string::npos)
      << wrap;
  EXPECT_NE(error("batch_dsm=-9223372036854775809").find("batch_dsm"), std::string::npos);  // a double in JSON
  EXPECT_NE(error("layers=18446744073709551615").find("key 'layers'"), std::string::npos);
  // Widths and batches that would not fit in memory say how much they would need.
  const std::string big = error("hidden=16000");
  EXPECT_NE(big.find("GB per step"), std::string::npos) << big;
  EXPECT_NE(error("hidden=100000").find("key 'hidden' = 100000: expected an integer in [1, 16384]"), std::string::npos);
  EXPECT_NE(error("batch_collocation=100000000").find("batch_collocation"), std::string::npos);
  EXPECT_EQ(error("hidden=512"), "");
  EXPECT_EQ(error("iterations=9000000000"), "");  // int64: fine
}
