/** `--target lab[:NAME]|INVENTORY.yaml` of apply and plan: the devices to reach, and the lab when it is one. */
import { getLabState, type LabState } from '../lab/index.ts';
import { inventoryFromLab, loadInventory, type Inventory } from '../push/inventory.ts';

export function targetOf(target: string, fabric: string): { inventory: Inventory; lab?: LabState } {
  if (target === 'lab' || target.startsWith('lab:')) {
    const lab = getLabState(target.slice(4) || fabric);
    return { inventory: inventoryFromLab(lab), lab };
  }
  return { inventory: loadInventory(target) };
}
