// Oracles from ACPICA, the ACPI implementation inside Linux:
//  - iasl disassembles every table the VMM writes, compiles the disassembly
//    back, and must get the same bytes, with no error, warning or checksum
//    complaint on the way; the disassembly names what the DSDT must hold;
//  - acpiexec loads the tables into ACPICA's interpreter, converts the
//    _CRS and _PRT objects as Linux does, and enters S5 through the
//    hardware-reduced sleep registers.
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <iterator>
#include <sstream>

#include "tests/support/run_command.h"
#include "tests/unit/images/scratch.h"
#include "tests/unit/vmm/acpi_parse.h"
#include "vmm/acpi/structures.h"
#include "vmm/acpi/tables.h"
#include "vmm/memory/layout.h"

namespace shelter::vmm::acpi {
namespace {

using images::testing::ScratchDir;
using shelter::testing::run_command;

const std::string kIasl = SHELTER_IASL;
const std::string kAcpiExec = SHELTER_ACPIEXEC;
constexpr uint64_t kMmio64 = 64 * memory::kGiB;

std::vector<uint8_t> read_bytes(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::string read_text(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

void write_bytes(const std::filesystem::path& path, std::span<const uint8_t> bytes) {
  std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}

// iasl reports problems on lines with "Error ", "Warning " or "Remark "
// ("Firmware Warning (ACPI): Incorrect checksum" for a bad checksum), and
// still exits 0 on warnings; its summary says "0 Errors, 0 Warnings".
void expect_clean(const shelter::testing::CommandResult& result, const std::string& what) {
  std::string output = result.out + result.err;
  EXPECT_EQ(result.status, 0) << what << ":\n" << output;
  for (const char* complaint : {"Error ", "Warning ", "Remark ", "Incorrect checksum", "does not contain a valid"})
    EXPECT_EQ(output.find(complaint), std::string::npos) << what << " printed '" << complaint << "':\n" << output;
}

class AcpiIasl : public ::testing::Test {
 protected:
  void SetUp() override {
    if (kIasl.empty()) GTEST_SKIP() << "iasl (Debian package acpica-tools) was not found when the build was configured";
  }

  std::string iasl(const std::string& arguments) { return "cd '" + dir.path().string() + "' && '" + kIasl + "' " + arguments + " 2>&1"; }

  ScratchDir dir;
};

TEST_F(AcpiIasl, EveryTableDisassemblesAndCompilesBackToTheSameBytes) {
  for (unsigned vcpus : {1u, 2u, 64u}) {
    SCOPED_TRACE(vcpus);
    Bytes image = build_tables({vcpus, kMmio64}, memory::kAcpiTablesAddress);
    auto parsed = testing::parse_tables(image, memory::kAcpiTablesAddress, memory::kAcpiTablesAddress);
    ASSERT_EQ(parsed.tables.size(), 5u);
    for (const auto& [signature, table] : parsed.tables) {
      SCOPED_TRACE(signature);
      const std::string& name = signature;
      write_bytes(dir / (name + ".dat"), table);
      expect_clean(run_command(iasl("-d " + name + ".dat")), "iasl -d " + signature);
      // -oa: no AML optimisations, so the compiled DSDT is byte for byte
      // what the disassembly describes.
      auto compiled = run_command(iasl("-oa " + name + ".dsl"));
      expect_clean(compiled, "iasl " + signature + ".dsl");
      EXPECT_NE(compiled.out.find("Compilation successful. 0 Errors, 0 Warnings, 0 Remarks"), std::string::npos)
          << compiled.out;
      std::vector<uint8_t> again = read_bytes(dir / (name + ".aml"));
      ASSERT_EQ(again.size(), table.size());
      // iasl puts its own creator ID and revision (and so its checksum) in
      // the header; everything else must come back unchanged.
      for (size_t i = 0; i < table.size(); ++i) {
        bool iasl_owned = i == offsetof(TableHeader, checksum) ||
                          (i >= offsetof(TableHeader, creator_id) && i < sizeof(TableHeader));
        if (!iasl_owned) {
          EXPECT_EQ(again[i], table[i]) << "byte " << i;
        }
      }
    }
  }
}

TEST_F(AcpiIasl, DisassemblyNamesTheDevicesAndWindows) {
  Bytes image = build_tables({2, kMmio64}, memory::kAcpiTablesAddress);
  auto parsed = testing::parse_tables(image, memory::kAcpiTablesAddress, memory::kAcpiTablesAddress);
  for (const char* signature : {"XSDT", "DSDT", "FACP", "APIC", "MCFG"}) {
    write_bytes(dir / (std::string(signature) + ".dat"), parsed.tables.at(signature));
    expect_clean(run_command(iasl("-d " + std::string(signature) + ".dat")), signature);
  }
  std::string xsdt = read_text(dir / "XSDT.dsl");
  for (size_t i = 0; i < parsed.xsdt_addresses.size(); ++i) {
    char line[64];
    std::snprintf(line, sizeof line, "ACPI Table Address   %zu : %016llX", i,
                  static_cast<unsigned long long>(parsed.xsdt_addresses[i]));
    EXPECT_NE(xsdt.find(line), std::string::npos) << line << "\n" << xsdt;
  }
  std::string dsdt = read_text(dir / "DSDT.dsl");
  for (const char* expected : {"Device (PCI0)", "EisaId (\"PNP0A08\")", "EisaId (\"PNP0A03\")", "Name (_SEG, Zero)",
                               "Name (_BBN, Zero)", "Name (_PRT, Package (0x80)", "0x0CF7,             // Range Maximum",
                               "0x1000,             // Range Minimum", "0xFFFF,             // Range Maximum",
                               "0xC1000000,         // Range Minimum", "0xDFFFFFFF,         // Range Maximum",
                               "0x0000001000000000, // Range Minimum", "0x0000004FFFFFFFFF, // Range Maximum",
                               "Prefetchable", "Device (COM1)", "EisaId (\"PNP0501\")", "0x03F8,             // Range Minimum",
                               "IRQNoFlags ()\n                    {4}", "EisaId (\"PNP0C02\")",
                               "0xE0000000,         // Address Base", "Name (\\_S5, Package (0x02)"})
    EXPECT_NE(dsdt.find(expected), std::string::npos) << "DSDT disassembly lacks: " << expected;
  std::string fadt = read_text(dir / "FACP.dsl");
  for (const char* expected : {"Hardware Reduced (V5) : 1", "Reset Register Supported (V2) : 1",
                               "Sleep Control Register : [Generic Address Structure]", "Address : 0000000000000600",
                               "Address : 0000000000000601", "Address : 0000000000000602", "Value to cause reset : 06"})
    EXPECT_NE(fadt.find(expected), std::string::npos) << "FADT disassembly lacks: " << expected << "\n" << fadt;
  std::string madt = read_text(dir / "APIC.dsl");
  size_t local_apics = 0;
  for (size_t at = madt.find("[Processor Local APIC]"); at != std::string::npos; at = madt.find("[Processor Local APIC]", at + 1))
    ++local_apics;
  EXPECT_EQ(local_apics, 2u);
  EXPECT_NE(madt.find("Address : FEC00000"), std::string::npos) << madt;
  std::string mcfg = read_text(dir / "MCFG.dsl");
  EXPECT_NE(mcfg.find("Base Address : 00000000E0000000"), std::string::npos) << mcfg;
  EXPECT_NE(mcfg.find("End Bus Number : 00"), std::string::npos) << mcfg;
}

// The checksum complaint the tests above look for is what this iasl prints.
TEST_F(AcpiIasl, ABadChecksumIsReported) {
  Bytes table = build_mcfg();
  table[offsetof(TableHeader, checksum)] ^= 1;
  write_bytes(dir / "bad.dat", table);
  auto result = run_command(iasl("-d bad.dat"));
  EXPECT_NE((result.out + result.err).find("Incorrect checksum"), std::string::npos) << result.out << result.err;
}

class AcpiExec : public ::testing::Test {
 protected:
  void SetUp() override {
    if (kAcpiExec.empty()) GTEST_SKIP() << "acpiexec (Debian package acpica-tools) was not found when the build was configured";
    Bytes image = build_tables({2, kMmio64}, memory::kAcpiTablesAddress);
    auto parsed = testing::parse_tables(image, memory::kAcpiTablesAddress, memory::kAcpiTablesAddress);
    for (const char* signature : {"DSDT", "FACP", "APIC", "MCFG"})
      write_bytes(dir / (std::string(signature) + ".dat"), parsed.tables.at(signature));
  }

  // Runs acpiexec's batch commands on the tables; its output.
  std::string run(const std::string& commands) {
    auto result = run_command("cd '" + dir.path().string() + "' && '" + kAcpiExec + "' -b '" + commands +
                              "' DSDT.dat FACP.dat APIC.dat MCFG.dat 2>&1");
    EXPECT_EQ(result.status, 0) << result.out;
    EXPECT_NE(result.out.find("1 ACPI AML tables successfully acquired and loaded"), std::string::npos) << result.out;
    EXPECT_EQ(result.out.find("ACPI Error"), std::string::npos) << result.out;
    EXPECT_EQ(result.out.find("ACPI Warning"), std::string::npos) << result.out;
    return result.out;
  }

  ScratchDir dir;
};

TEST_F(AcpiExec, RootBridgeResourcesAndRoutingConvertAsLinuxSeesThem) {
  std::string out = run("resources \\_SB.PCI0");
  for (const char* expected :
       {"Resource Type : Bus Number Range", "Address Maximum : 0CF7", "Address Minimum : 1000", "Address Maximum : FFFF",
        "Address Minimum : C1000000", "Address Maximum : DFFFFFFF", "Caching : Prefetchable",
        "Address Minimum : 0000001000000000", "Address Length : 0000004000000000", "[7F] PCI IRQ Routing Table Package"})
    EXPECT_NE(out.find(expected), std::string::npos) << "acpiexec output lacks: " << expected << "\n" << out;
  // Slot 31's INTA# (the 125th entry) goes to pci_intx_gsi(31).
  char slot31[256];
  std::snprintf(slot31, sizeof slot31,
                "[7C] PCI IRQ Routing Table Package\n                    Address : 00000000001FFFFF\n"
                "                        Pin : 00000000\n                     Source : [NULL NAMESTRING]\n"
                "               Source Index : %08X",
                memory::pci_intx_gsi(31));
  EXPECT_NE(out.find(slot31), std::string::npos) << out;
}

TEST_F(AcpiExec, SerialPortAndEcamReservation) {
  std::string out = run("resources \\_SB.COM1; resources \\_SB.PRES");
  for (const char* expected : {"Address Minimum : 03F8", "Address Length : 08", "Interrupt List : 4",
                               "Address : E0000000", "Address Length : 10000000"})
    EXPECT_NE(out.find(expected), std::string::npos) << "acpiexec output lacks: " << expected << "\n" << out;
}

TEST_F(AcpiExec, PowerOffTakesTheHardwareReducedSleepPath) {
  std::string out = run("sleep 5");
  EXPECT_NE(out.find("Sleep-A: 05"), std::string::npos) << out;
  // HwExtendedSleep writes SLEEP_CONTROL_REG; without the FADT's
  // HW_REDUCED_ACPI flag ACPICA would take HwLegacySleep (PM1 control).
  EXPECT_NE(out.find("HwExtendedSleep"), std::string::npos) << out;
  EXPECT_EQ(out.find("HwLegacySleep"), std::string::npos) << out;
}

}  // namespace
}  // namespace shelter::vmm::acpi
