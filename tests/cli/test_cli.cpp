#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

#include "core/points.h"
#include "test_util.h"

using gapscope::testing::run_cli;
using gapscope::testing::slurp;

namespace {
int lines(const std::string& s) {
  int n = 0;
  for (char c : s) n += c == '\n';
  return n;
}
}  // namespace

TEST(Cli, DataWritesCsvWithHeader) {
  auto dir = gapscope::testing::temp_dir("cli");
  auto out = (dir / "d.csv").string();
  auto r = run_cli("data --dataset circles2 --n 100 --seed 3 --out " + out);
  ASSERT_EQ(r.status, 0) << r.output;
  auto p = gapscope::read_points_csv(out);
  EXPECT_EQ(p.n(), 100u);
  std::ifstream in(out);
  std::string h;
  std::getline(in, h);
  EXPECT_EQ(h, "x,y");
}

TEST(Cli, TrainThenSampleBothMethods) {
  auto dir = gapscope::testing::temp_dir("cli");
  auto ck = (dir / "ck").string();
  auto r = run_cli("train --set hidden=16 --set batch_dsm=128 --set residual_stats_every=10 --iterations 20 "
                   "--progress-every 10 --out " + ck);
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("20/20"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("it/s"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("ETA"), std::string::npos) << r.output;
  // the latest residual statistics ride along: mean |R| and the range over time slices
  EXPECT_NE(r.output.find("t-slices"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("it 20)"), std::string::npos) << r.output;
  for (const char* m : {"ode", "sde"}) {
    auto out = (dir / (std::string(m) + ".csv")).string();
    r = run_cli(std::string("sample --checkpoint ") + ck + " --method " + m + " --n 50 --steps 20 --out " + out);
    ASSERT_EQ(r.status, 0) << r.output;
    auto p = gapscope::read_points_csv(out);
    EXPECT_EQ(p.n(), 50u);
    for (float v : p.v) EXPECT_TRUE(std::isfinite(v));
  }
  // resume adds iterations on top of the checkpoint
  r = run_cli("train --resume " + ck + " --iterations 5 --out " + ck);
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("iteration 25"), std::string::npos) << r.output;
}

TEST(Cli, BadInputGivesOneLineAndNonZeroExit) {
  auto dir = gapscope::testing::temp_dir("cli");
  auto r = run_cli("train --set lamda=1 --out " + (dir / "x").string());
  EXPECT_NE(r.status, 0);
  EXPECT_EQ(lines(r.output), 1) << r.output;
  EXPECT_NE(r.output.find("unknown key 'lamda'"), std::string::npos) << r.output;

  r = run_cli("sample --checkpoint " + (dir / "none").string() + " --n 5 --out " + (dir / "o.csv").string());
  EXPECT_NE(r.status, 0);
  EXPECT_EQ(lines(r.output), 1) << r.output;

  auto bad = (dir / "bad.csv").string();
  std::ofstream(bad) << "x,y\n1,2\n1,oops\n";
  r = run_cli("data --dataset csv --set data_csv=" + bad + " --n 5 --out " + (dir / "o.csv").string());
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.output.find(bad + ":3"), std::string::npos) << r.output;
  EXPECT_EQ(lines(r.output), 1) << r.output;

  // More points than this machine holds: refused before anything is allocated.
  r = run_cli("data --dataset blob --n 1000000000000 --out " + (dir / "huge.csv").string());
  EXPECT_NE(r.status, 0);
  EXPECT_EQ(lines(r.output), 1) << r.output;
  EXPECT_NE(r.output.find("--n 1000000000000: "), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("GB of memory"), std::string::npos) << r.output;
  EXPECT_FALSE(std::filesystem::exists(dir / "huge.csv"));

  // Outputs that are not regular files are the user's: refused, left as they were.
  std::filesystem::create_directories(dir / "mine");
  for (const std::string& out : {(dir / "mine").string(), (dir / "o2.csv").string() + "/"}) {
    r = run_cli("data --dataset blob --n 5 --out " + out);
    EXPECT_NE(r.status, 0) << out;
    EXPECT_EQ(lines(r.output), 1) << r.output;
  }
  EXPECT_TRUE(std::filesystem::is_directory(dir / "mine"));
  { std::ofstream(dir / "file.txt") << "mine"; }
  r = run_cli("reproduce --preset smoke --out " + (dir / "file.txt").string());
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.output.find("--out " + (dir / "file.txt").string() + ": exists and is not a folder"), std::string::npos)
      << r.output;
  EXPECT_EQ(gapscope::testing::slurp(dir / "file.txt"), "mine");
}

// The paper's setting is what an experiment file trains with, and the λ schedule option
// reaches the trainer (the history's lambda column) and rejects a bad entry by name.
TEST(Cli, TrainWritesThePapersSettingAndTakesALambdaSchedule) {
  auto dir = gapscope::testing::temp_dir("cli");
  auto ck = (dir / "ck").string();
  auto r = run_cli("train --config " + std::string(GAPSCOPE_SOURCE_DIR) +
                   "/assets/experiments/circles2.json --iterations 1 --threads 1 --out " + ck);
  ASSERT_EQ(r.status, 0) << r.output;
  std::ifstream in(std::filesystem::path(ck) / "config.json");
  const std::string cfg((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_NE(cfg.find("\"batch_dsm\": 20000"), std::string::npos) << cfg;
  EXPECT_NE(cfg.find("\"boundary_weight\": 0.0"), std::string::npos) << cfg;
  EXPECT_NE(cfg.find("\"lr_schedule\": \"1e-3:0.25,1e-4:0.65,1e-5:0.10\""), std::string::npos) << cfg;

  auto ck2 = (dir / "ck2").string();
  r = run_cli("train --set hidden=8 --set batch_dsm=64 --set batch_collocation=32 --set residual_stats_every=0 "
              "--iterations 6 --lambda-schedule 0:0,3:2.5 --threads 1 --out " + ck2);
  ASSERT_EQ(r.status, 0) << r.output;
  std::ifstream h(std::filesystem::path(ck2) / "history.csv");
  std::string line;
  std::getline(h, line);
  std::vector<std::string> lambdas;
  while (std::getline(h, line)) {
    std::stringstream ss(line);
    std::string f;
    for (int k = 0; k <= 5; ++k) std::getline(ss, f, ',');
    lambdas.push_back(f);
  }
  EXPECT_EQ(lambdas, (std::vector<std::string>{"0", "0", "0", "2.5", "2.5", "2.5"}));

  r = run_cli("train --iterations 1 --lambda-schedule 5:x --out " + (dir / "ck3").string());
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.output.find("'5:x'"), std::string::npos) << r.output;
  EXPECT_EQ(lines(r.output), 1) << r.output;
}

TEST(Cli, TrainRefusesAnOutputThatIsNotACheckpointBeforeTraining) {
  auto dir = gapscope::testing::temp_dir("cli-out");
  std::filesystem::create_directories(dir / "mine");
  { std::ofstream(dir / "mine" / "data.csv") << "1,2\n"; }
  auto r = run_cli("train --set hidden=16 --set batch_dsm=64 --iterations 100000 --out " + (dir / "mine").string());
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.output.find("is not a gapscope checkpoint"), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find("/100000"), std::string::npos) << "trained before refusing: " << r.output;
  EXPECT_TRUE(std::filesystem::exists(dir / "mine" / "data.csv"));
  // A trailing slash, as tab completion writes it, names the folder itself.
  r = run_cli("train --set hidden=16 --set batch_dsm=64 --iterations 3 --out " + (dir / "ck").string() + "/");
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_TRUE(std::filesystem::exists(dir / "ck" / "state.json"));
}

TEST(Cli, LongRunsSaveAsTheyGoAndOnSigterm) {
  auto dir = gapscope::testing::temp_dir("cli-sig");
  const std::string ck = (dir / "ck").string();
  // Killed politely mid-run: a final save, exit 128 + SIGTERM, and the checkpoint loads.
  const std::string cmd = std::string(GAPSCOPE_CLI) +
                          " train --set hidden=16 --set batch_dsm=64 --set batch_collocation=64 --iterations 100000000"
                          " --save-every 50 --out " + ck + " > " + (dir / "log").string() + " 2>&1 & pid=$!; "
                          "i=0; while [ ! -f " + ck + "/state.json ] && [ $i -lt 1200 ]; do sleep 0.05; i=$((i+1)); done; "
                          "sleep 0.5; kill -TERM $pid; "
                          "wait $pid; echo $? > " + (dir / "rc").string();
  ASSERT_EQ(std::system(("sh -c '" + cmd + "'").c_str()), 0);
  std::ifstream rc(dir / "rc");
  int code = -1;
  rc >> code;
  std::ifstream logf(dir / "log");
  std::stringstream log;
  log << logf.rdbuf();
  EXPECT_EQ(code, 128 + 15) << log.str();
  EXPECT_NE(log.str().find("interrupted (signal 15): saved checkpoint"), std::string::npos) << log.str();
  auto r = run_cli("eval --checkpoint " + ck + " --n 50 --steps 5 --exact-n 0 --residual-points 0");
  EXPECT_EQ(r.status, 0) << r.output;
}

TEST(Cli, EvalAndW2TakeThePapersTwoMetrics) {
  auto dir = gapscope::testing::temp_dir("cli-metric");
  const std::string ck = (dir / "ck").string();
  ASSERT_EQ(run_cli("train --set hidden=16 --set batch_dsm=64 --iterations 2 --out " + ck).status, 0);
  auto r = run_cli("eval --checkpoint " + ck + " --n 300 --steps 5 --exact-n 0 --residual-points 0 --metric table --quiet");
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("\"metric\": \"table\""), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("\"box\": 3.5"), std::string::npos) << r.output;
  r = run_cli("eval --checkpoint " + ck + " --n 300 --steps 5 --metric printed");
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.output.find("metric 'printed': expected table"), std::string::npos) << r.output;
  const std::string a = (dir / "a.csv").string(), b = (dir / "b.csv").string();
  { std::ofstream(a) << "x,y\n0,0\n"; }
  { std::ofstream(b) << "x,y\n100,0\n"; }
  r = run_cli("w2 " + a + " " + b + " --method grid --metric table");
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("\"metric\":\"table\""), std::string::npos) << r.output;
  EXPECT_NE(run_cli("w2 " + a + " " + b + " --method grid").status, 0);  // validation: b has nothing in the box
}

// A full disk under every writer of the CLI (a small tmpfs; root only, skipped elsewhere):
// one line naming the file, a non-zero exit, the old file or checkpoint whole, no temporary.
TEST(Cli, FullDiskIsOneLineAndKeepsWhatWasThere) {
  namespace fs = std::filesystem;
  const auto dir = gapscope::testing::temp_dir("cli-full");
  const fs::path t = dir / "tmpfs";
  fs::create_directories(t);
  if (std::system(("mount -t tmpfs -o size=320k tmpfs " + t.string() + " 2>/dev/null").c_str()) != 0)
    GTEST_SKIP() << "cannot mount a tmpfs here";
  struct Unmount {
    fs::path p;
    ~Unmount() { std::system(("umount " + p.string()).c_str()); }
  } unmount{t};
  auto left_temporaries = [&] {
    std::string found;
    for (const auto& e : fs::recursive_directory_iterator(t))
      if (e.path().filename().string().find(".tmp-") != std::string::npos) found += e.path().string() + " ";
    return found;
  };
  const std::string small = "--set hidden=16 --set batch_dsm=64 --set batch_collocation=64";
  auto r = run_cli("data --dataset circles2 --n 100 --out " + (t / "d.csv").string());
  ASSERT_EQ(r.status, 0) << r.output;
  r = run_cli("train " + small + " --iterations 3 --out " + (t / "ck").string());
  ASSERT_EQ(r.status, 0) << r.output;
  const std::string csv = gapscope::testing::slurp(t / "d.csv");
  { std::ofstream(t / "ballast") << std::string(fs::space(t).available - 4096, 'x'); }

  r = run_cli("data --dataset circles2 --n 100000 --out " + (t / "d.csv").string());
  EXPECT_NE(r.status, 0);
  EXPECT_EQ(lines(r.output), 1) << r.output;
  EXPECT_NE(r.output.find((t / "d.csv").string() + ": write failed (No space left on device)"), std::string::npos)
      << r.output;
  EXPECT_EQ(gapscope::testing::slurp(t / "d.csv"), csv);

  r = run_cli("sample --checkpoint " + (t / "ck").string() + " --method ode --n 20000 --steps 3 --out " +
              (t / "s.csv").string());
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.output.find((t / "s.csv").string() + ": "), std::string::npos) << r.output;
  EXPECT_FALSE(fs::exists(t / "s.csv"));

  r = run_cli("train --resume " + (t / "ck").string() + " --iterations 2 --out " + (t / "ck").string());
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.output.find("No space left on device"), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find("terminate called"), std::string::npos) << r.output;
  EXPECT_EQ(left_temporaries(), "");
  r = run_cli("eval --checkpoint " + (t / "ck").string() + " --n 50 --steps 3 --exact-n 0 --residual-points 0");
  EXPECT_EQ(r.status, 0) << "the old checkpoint no longer loads: " << r.output;
  EXPECT_NE(r.output.find("\"iteration\": 3"), std::string::npos) << r.output;
}

// w2 and data need no LibTorch: the executable alone (without the plugin that holds the
// other commands) runs them, links no LibTorch library, and names the missing plugin in
// one line for a command that needs it.
TEST(Cli, MeasuringCommandsStartWithoutLibTorch) {
  namespace fs = std::filesystem;
  const auto dir = gapscope::testing::temp_dir("cli-light");
  const fs::path exe = dir / "gapscope-cli";
  fs::copy_file(GAPSCOPE_CLI, exe);
  auto sh = [&](const std::string& cmd) {
    gapscope::testing::RunResult r;
    FILE* f = popen((cmd + " 2>&1").c_str(), "r");
    char buf[4096];
    for (std::size_t k; (k = fread(buf, 1, sizeof buf, f)) > 0;) r.output.append(buf, k);
    r.status = pclose(f);
    return r;
  };
  auto r = sh(exe.string() + " data --dataset blob --n 200 --out " + (dir / "d.csv").string());
  ASSERT_EQ(r.status, 0) << r.output;
  r = sh(exe.string() + " w2 --method grid " + (dir / "d.csv").string() + " " + (dir / "d.csv").string());
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("\"w2\":0"), std::string::npos) << r.output;
  // The residual–gap plot and the residual over training are drawn without LibTorch too.
  {
    std::ofstream g(dir / "gap.csv");
    g << "source,iteration,lambda,res_mean_sq,res_time_weighted,w2_ode_sde\n"
         "blob,100,0,0.5,0.4,0.3\nblob,100,1,0.05,0.04,0.1\n\"run 2: c\",7,0.1,0.2,0.1,0.2\n";
    std::ofstream h(dir / "history.csv");
    h << "iteration,loss,dsm,fp,bc,lambda,lr,seconds,res_mean_sq,res_mean_abs,res_max_abs,res_slice_0,res_slice_1\n"
         "1,1,1,0,0,0,0.001,0.1,nan,nan,nan,nan,nan\n2,1,1,0,0,0,0.001,0.2,0.5,0.6,2,0.9,0.1\n"
         "3,1,1,0,0,1,0.001,0.3,nan,nan,nan,nan,nan\n4,1,1,0,0,1,0.001,0.4,0.3,0.4,1,0.5,0.05\n";
  }
  r = sh(exe.string() + " residual-gap --from " + (dir / "gap.csv").string() + " --from " +
         (dir / "gap.csv").string() + " --label first --out " + (dir / "gap.png").string() + " --out " +
         (dir / "all.csv").string());
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_GT(fs::file_size(dir / "gap.png"), 10000u);
  EXPECT_EQ(lines(slurp(dir / "all.csv")), 7);  // header + the three points twice
  EXPECT_NE(slurp(dir / "all.csv").find("\nfirst: blob,100,0,"), std::string::npos) << slurp(dir / "all.csv");
  EXPECT_NE(slurp(dir / "all.csv").find("\nfirst: run 2: c,7,"), std::string::npos) << slurp(dir / "all.csv");
  EXPECT_NE(slurp(dir / "all.csv").find("\nblob,100,1,"), std::string::npos);  // the second input keeps its names
  r = sh(exe.string() + " residual-history --history " + (dir / "history.csv").string() + " --out " +
         (dir / "hist.png").string() + " --out " + (dir / "hist.csv").string());
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("(2 measured iterations)"), std::string::npos) << r.output;
  EXPECT_GT(fs::file_size(dir / "hist.png"), 10000u);
  EXPECT_EQ(lines(slurp(dir / "hist.csv")), 5);  // header + 2 iterations x 2 slices
  // A bad line: one line naming the file and the line, non-zero exit.
  std::ofstream(dir / "bad.csv") << "source,iteration,lambda,res_mean_sq,res_time_weighted,w2_ode_sde\nblob,1,x,1,1,1\n";
  r = sh(exe.string() + " residual-gap --from " + (dir / "bad.csv").string() + " --out " + (dir / "b.png").string());
  EXPECT_NE(r.status, 0);
  EXPECT_EQ(lines(r.output), 1) << r.output;
  EXPECT_NE(r.output.find((dir / "bad.csv").string() + ":2: lambda"), std::string::npos) << r.output;
  r = sh(exe.string() + " residual-gap --from " + dir.string() + " --out " + (dir / "b.png").string());
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.output.find("residual_gap.csv: no such file"), std::string::npos) << r.output;
  r = sh("ldd " + exe.string());
  EXPECT_EQ(r.output.find("libtorch"), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find("libc10"), std::string::npos) << r.output;
  r = sh(exe.string() + " train --iterations 1 --out " + (dir / "ck").string());
  EXPECT_NE(r.status, 0);
  EXPECT_EQ(lines(r.output), 1) << r.output;
  EXPECT_NE(r.output.find("libgapscope_cli_torch.so: cannot load the LibTorch commands"), std::string::npos) << r.output;
  // Beside its plugin, the full help lists every command.
  r = run_cli("--help");
  for (const char* c : {"train", "sample", "eval", "reproduce", "import", "export", "w2", "data", "residual-gap",
                        "residual-history"})
    EXPECT_NE(r.output.find(std::string("  ") + c), std::string::npos) << c << "\n" << r.output;
}

// dataset = file takes a NumPy .npy as well as a CSV (by extension); a bad one is one line
// naming it before any training.
TEST(Cli, TrainsOnANpyDataFile) {
  auto dir = gapscope::testing::temp_dir("cli");
  const std::string npy = std::string(GAPSCOPE_FIXTURES) + "/npy/fortran_f4.npy";
  auto r = run_cli("data --dataset file --set data_file=" + npy + " --n 50 --out " + (dir / "d.csv").string());
  ASSERT_EQ(r.status, 0) << r.output;
  const auto p = gapscope::read_points_csv((dir / "d.csv").string());
  ASSERT_EQ(p.d, 2);
  for (std::size_t i = 0; i < p.n(); ++i) EXPECT_FLOAT_EQ(p.row(i)[1], 0.5f * (p.row(i)[0] + 1)) << "a row of the file";
  r = run_cli("train --set dataset=file --set data_file=" + npy +
              " --set hidden=8 --set batch_dsm=64 --set batch_collocation=32 --set residual_stats_every=0 "
              "--iterations 3 --threads 1 --out " + (dir / "ck").string());
  ASSERT_EQ(r.status, 0) << r.output;
  const std::string bad = std::string(GAPSCOPE_FIXTURES) + "/npy/bad_int64.npy";
  r = run_cli("train --set dataset=file --set data_file=" + bad + " --iterations 3 --out " + (dir / "ck2").string());
  EXPECT_NE(r.status, 0);
  EXPECT_EQ(lines(r.output), 1) << r.output;
  EXPECT_NE(r.output.find(bad + ": not a readable .npy file: dtype '<i8'"), std::string::npos) << r.output;
  r = run_cli("train --set dataset=file --iterations 3 --out " + (dir / "ck3").string());
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.output.find("key 'data_file'"), std::string::npos) << r.output;
}

TEST(Cli, DensityAndSweepStepsWriteTheirTablesAndFigures) {
  auto dir = gapscope::testing::temp_dir("cli-density");
  const std::string ck = (dir / "ck").string();
  ASSERT_EQ(run_cli("train --set hidden=16 --set batch_dsm=64 --set T=1 --set dataset=blob --iterations 2 --out " + ck)
                .status,
            0);
  const std::string csv = (dir / "d.csv").string(), png = (dir / "d.png").string();
  auto r = run_cli("density --checkpoint " + ck + " --t 0.2 --grid 8 --steps 10 --out " + csv + " --out " + png);
  ASSERT_EQ(r.status, 0) << r.output;
  const std::string d = slurp(csv);
  EXPECT_EQ(d.substr(0, d.find('\n')), "x,y,log_p_ode,log_p_model,log_p_data");
  EXPECT_EQ(std::count(d.begin(), d.end(), '\n'), 65);
  EXPECT_EQ(slurp(png).substr(1, 3), "PNG");
  r = run_cli("density --checkpoint " + ck + " --t 5 --out " + csv);
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.output.find("--t must lie in (0, T)"), std::string::npos) << r.output;

  const std::string s = (dir / "s.csv").string();
  r = run_cli("sweep-steps --checkpoint " + ck + " --steps 2,4 --n 200 --method rk4 --out " + s + " --figure " +
              (dir / "s.pdf").string());
  ASSERT_EQ(r.status, 0) << r.output;
  const std::string t = slurp(s);
  EXPECT_EQ(t.substr(0, t.find('\n')), "steps,w2_ode_sde,w2_ode_data,w2_sde_data,inside_ode,inside_sde,nfe_ode,nfe_sde");
  EXPECT_EQ(std::count(t.begin(), t.end(), '\n'), 3);
  EXPECT_EQ(slurp(dir / "s.pdf").substr(0, 4), "%PDF");
  r = run_cli("sweep-steps --checkpoint " + ck + " --steps 2,x --out " + s);
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.output.find("--steps '2,x'"), std::string::npos) << r.output;
}
