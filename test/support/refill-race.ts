/** A unit vector in the plane at `degrees`: two students' similarity is the cosine of the angle between them. */
export const atAngle = (degrees: number): number[] => [Math.cos((degrees * Math.PI) / 180), Math.sin((degrees * Math.PI) / 180)];

/**
 * The students of the refill race (K = 3, reserve 2): Y's pool holds three students about to
 * leave, then a4 and a5 close together (its bound a5, at 2.5 degrees); c1..c3 further out; X far
 * away, and X and the leaving students live on the other partition than Y, so Y's pool hears of
 * them only through repair messages. X later moves to 15 degrees: inside the bound Y's refill
 * makes, outside the bound Y's pool had.
 */
export function refillRaceStudents(partitionOf: (studentId: string) => number): { y: string; x: string; leaving: string[]; vectors: Map<string, number[]> } {
  const y = 'y';
  const others = Array.from({ length: 40 }, (_, i) => `o${i}`).filter((id) => partitionOf(id) !== partitionOf(y));
  const [x, ...leaving] = others.slice(0, 4);
  const vectors = new Map<string, number[]>([
    [y, atAngle(0)],
    [leaving[0], atAngle(0.5)],
    [leaving[1], atAngle(1)],
    [leaving[2], atAngle(1.5)],
    ['a4', atAngle(2)],
    ['a5', atAngle(2.5)],
    ['c1', atAngle(20)],
    ['c2', atAngle(25)],
    ['c3', atAngle(30)],
    [x, atAngle(90)],
  ]);
  return { y, x, leaving, vectors };
}
