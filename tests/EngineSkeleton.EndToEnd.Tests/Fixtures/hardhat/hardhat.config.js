// `hardhat node` serves the network named "node". Osaka, every fork from genesis, no automine: mine.mjs mines
// each block with evm_mine, so the chain is exactly what it asks for. The two funded accounts are the first two of
// hardhat's public test mnemonic ("test test ... junk"); hardhat signs eth_sendTransaction with them.
// E2E_HARDHAT_GENESIS_TIME (unix seconds) sets the genesis timestamp; the default keeps the genesis fixed.
const genesisTime = Number(process.env.E2E_HARDHAT_GENESIS_TIME ?? '1767225600'); // 2026-01-01T00:00:00Z

export default {
  networks: {
    node: {
      type: 'edr-simulated',
      chainType: 'l1',
      hardfork: 'osaka',
      chainId: 31337,
      initialDate: new Date(genesisTime * 1000).toISOString(),
      accounts: [
        { privateKey: '0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80', balance: '1000000000000000000000000' },
        { privateKey: '0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d', balance: '1000000000000000000000000' },
      ],
      mining: { auto: false, interval: 0 },
    },
  },
};
